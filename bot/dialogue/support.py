"""The support-information check (measure 6-3-3-3, issue 17) and the notices people opt into, as steps of
a turn (bot.dialogue.turn calls `answer`, `start` and `offer`).

A few questions, one at a time, each skippable: the age group of the person cared for, which
certificate if any, at home or not. Then what *may* apply (bot.supportinfo.match), most relevant
first, each with what to bring, and always 「くわしくは障害福祉課で確認してください」. Nothing is asked
about income or names; the answers stay in this conversation (the ``support`` slot). Then an offer of
notices: on LINE in this talk, on the web by e-mail with a confirmation link (double opt-in).
"""

from __future__ import annotations

import re
from typing import Any, List, Optional

from bot import supportinfo
from bot.dialogue.contact import parse_contact
from bot.dialogue.effects import CountSupport, Subscribe, Unsubscribe
from bot.dialogue.replies import Reply, name_of
from bot.language.textmatch import Reading
from bot.triage import lexicon as lx

STEPS = ("cared_age", "certificate", "living")
STORY_LENGTH = 40  # a longer message while a question waits is a story, not an answer
QUESTION_LENGTH = 80  # a longer first ask tells a story: the bot hears it (and hands off) before the check
OTHERS_ROLES = ("employer", "supporter")  # they ask for someone else: the tool is for carers and the person
AWAITING = ("support_offer", *(f"support_{s}" for s in STEPS), "notice_offer", "notice_topics", "notice_email")
_ASKS = re.compile(lx.SUPPORT_QUESTION)
_ABOUT = re.compile(lx.SUPPORT_WORDS)
_GENERIC = re.compile(lx.SUPPORT_GENERIC)
_DISABILITY = re.compile(lx.DISABILITY_HINT)
_THANKS = re.compile(lx.NOT_A_QUESTION)
_OPEN = re.compile(lx.SUPPORT_OPEN)
_NOT_THIS = re.compile(lx.SUPPORT_NOT_THIS)
_STOP = re.compile(lx.NOTICE_STOP)
_WANTS_NOTICES = re.compile(lx.NOTICE_WANTED)
_SKIP = re.compile(r"スキップ|すきっぷ|skip|わから|分から|わかんな|不明|とばし|とばす|飛ばす|パス|ぱす"
                   r"|こたえたくな|答えたくな|言いたくな|いいたくな")
_YES = re.compile(r"^(はい|うん|お願い|おねがい|ええ|yes|ok|おk|確認|かくにん|うけと|受け取|メールで|lineで"
                  r"|する|したい|やる|みたい|見たい|知りたい|しりたい)")
_NO = re.compile(r"^(いいえ|いや|いらな|けっこう|結構|大丈夫|だいじょうぶ|no|やめ|しない|ううん|今はいい|いまはいい)")
_NUMBER_AGE = re.compile(r"(\d{1,3})\s*(?:歳|さい|才|ｻｲ)")
_AGE_WORDS = (
    ("age_18_19", re.compile(r"18[・〜~-]19|18.?19さい|18、19")),
    ("under_18", re.compile(r"未満|みまん|より\s*した|小学|しょうがく|中学|ちゅうがく|高校|こうこう|幼|ようち|保育|ほいく"
                            r"|こども|子ども|子供|赤ちゃん|あかちゃん|弟|妹|おとうと|いもうと")),
    ("age_20_plus", re.compile(r"以上|いじょう|大人|おとな|成人|せいじん|高齢|こうれい|お年寄り|としより"
                               r"|夫|妻|おっと|つま|親|母|父|はは|ちち")),
)
_CERTIFICATES = (
    ("none", re.compile(r"手帳は(ない|なし|持って(い)?ない|ありません)|てちょうは(ない|なし|もって(い)?ない)"
                        r"|^(ない|なし|ありません|もってない|持ってない)")),
    ("ryoiku", re.compile(r"療育|りょういく|愛の手帳|あいのてちょう|知的|ちてき")),
    ("mental", re.compile(r"精神|せいしん")),
    ("physical_1_2", re.compile(r"(身体|しんたい)[^3-6３-６]*([12１２一二]\s*級|[12１２]\s*きゅう)|1・2級|1、2級")),
    ("physical_3_6", re.compile(r"(身体|しんたい)[^12１２]*([3-6３-６三四五六]\s*級|[3-6]\s*きゅう)|3〜6級|3-6級")),
    ("physical", re.compile(r"身体|しんたい")),
)
_LIVING = (
    ("hospital", re.compile(r"入院|にゅういん|病院|びょういん")),
    ("facility", re.compile(r"施設|しせつ|グループホーム|ぐるーぷほーむ|入所|にゅうしょ")),
    ("home", re.compile(r"自宅|じたく|在宅|ざいたく|家|いえ|うち|同居|どうきょ|いっしょ|一緒")),
)
_TOPIC_WORDS = {"allowances": r"手当|てあて|サービス|さーびす", "places": r"居場所|いばしょ|イベント|いべんと",
                "carer_meetups": r"交流|こうりゅう|あつまり|集まり|ケアラー"}
_ALL = re.compile(r"ぜんぶ|全部|すべて|全て|どれも|all")


def asks_for_support(text: str, conditions: Any = ()) -> bool:
    """The message asks what allowance, service or lending may be used: words specific enough alone
    (手当, 車いすの貸出し), or general ones (制度, 支援, サービス) where a disability was told."""
    reading = Reading.of(text)
    # ｸﾙﾏｲｽ and くるまいす alike; not UniDic's reading, where 身体障害者 hides 「たいしょう」
    forms = (reading.surface, reading.hira)

    def found(words: re.Pattern) -> bool:
        return any(words.search(form) for form in forms if form)

    if not found(_ASKS) or _THANKS.search(text):
        return False
    disability = "disability" in conditions or found(_DISABILITY)
    if found(_ABOUT):
        return disability or not found(_NOT_THIS)
    return disability and found(_GENERIC)


def start(ctx: Any) -> Optional[List[Reply]]:
    """Begin the check when the message asks for it (not in a crisis; not while another answer is awaited)."""
    if ctx.a.crisis or ctx.conv.staff:
        return None
    if _STOP.search(ctx.text):
        return _stop(ctx)
    if _WANTS_NOTICES.search(ctx.text):
        ctx.conv.awaiting = "notice_topics"
        return [("utter_notice_topics", {})]
    if ctx.a.user_role in OTHERS_ROLES or not asks_for_support(ctx.text, ctx.a.facts.conditions):
        return None
    if len(ctx.text) > QUESTION_LENGTH or not _OPEN.search(Reading.of(ctx.text).hira):
        # A story that ends in a question, or a question about one named thing (車いすを借りたい): heard
        # and answered first; the check is offered after.
        ctx.conv.once("support_asked")
        return None
    ctx.conv.once("support_offered")
    return [("utter_support_start", {})] + _ask(ctx, {})


def offer(ctx: Any) -> List[Reply]:
    """After a hand-off's last question: offer the check once to a carer of a person with a disability."""
    conv = ctx.conv
    wanted = "disability" in ctx.a.facts.conditions or "support_asked" in conv.done
    if conv.awaiting or ctx.a.crisis or not wanted or "support_offered" in conv.done or ctx.a.user_role in OTHERS_ROLES:
        return []
    conv.once("support_offered")
    conv.awaiting = "support_offer"
    return [("utter_support_offer", {})]


def answer(ctx: Any) -> Optional[List[Reply]]:
    """The answer to the check's or the notices' last question; None when this turn is not one."""
    waiting = ctx.answering
    if waiting not in AWAITING:
        return None
    if _STOP.search(ctx.text):
        return _stop(ctx)
    if waiting == "support_offer":
        if _NO.match(ctx.text) or ctx.intent == "deny":
            return [("utter_support_declined", {})]
        if _YES.match(ctx.text) or ctx.intent == "affirm":
            return [("utter_support_start", {})] + _ask(ctx, {})
        return None  # something else: listen to it
    if waiting.startswith("support_"):
        return _answer_question(ctx, waiting[len("support_"):])
    return _answer_notice(ctx, waiting)


def _ask(ctx: Any, answers: dict) -> List[Reply]:
    """The next question not answered yet, or the results."""
    ctx.conv.support = answers
    for step in STEPS:
        if step not in answers:
            ctx.conv.awaiting = f"support_{step}"
            return [(f"utter_support_ask_{step}", {})]
    return _results(ctx, answers)


def _answer_question(ctx: Any, step: str) -> Optional[List[Reply]]:
    answers = dict(ctx.conv.support or {})
    skipped = bool(_SKIP.search(ctx.text))
    if len(ctx.text) > STORY_LENGTH and not skipped:
        ctx.conv.support = answers
        return None  # a story, not an answer to a button: the check stops here and the bot listens
    value = None if skipped else _read(step, ctx.text)
    answers[step] = value
    return _ask(ctx, answers)


def _read(step: str, text: str) -> Optional[str]:
    if step == "cared_age":
        number = _NUMBER_AGE.search(text)
        if number:
            n = int(number.group(1))
            return "under_18" if n < 18 else "age_18_19" if n < 20 else "age_20_plus"
        return next((value for value, words in _AGE_WORDS if words.search(text)), None)
    table = _CERTIFICATES if step == "certificate" else _LIVING
    return next((value for value, words in table if words.search(text)), None)


def _results(ctx: Any, answers: dict) -> List[Reply]:
    ctx.conv.awaiting = ""
    found = supportinfo.match(answers)
    ctx.extra_effects.append(CountSupport([i["id"] for i in found]))
    if not found:
        return [("utter_support_none", {}), *_notice_offer(ctx)]
    replies: List[Reply] = [("utter_support_results", {"n": len(found)})]
    for item in found:
        replies.append(("utter_support_item", {
            "name": item["name"], "reading": item["reading"], "what": item["what"], "what_easy": item["what_easy"],
            "note": item.get("note", ""), "prepare": "、".join(item["prepare"]), "source": item["source"],
            "section": name_of(item["section"], ctx.easy)}))
    sections = list(dict.fromkeys(i["section"] for i in found))
    replies.append(("utter_support_end", {"section": "・".join(name_of(s, ctx.easy) for s in sections)}))
    return replies + _notice_offer(ctx)


# --- notices (プッシュ型の情報発信) -------------------------------------------------------------------

def _notice_offer(ctx: Any) -> List[Reply]:
    if not ctx.conv.once("notice_offered"):
        return []
    ctx.conv.awaiting = "notice_offer"
    return [("utter_notice_offer_line" if ctx.channel == "line" else "utter_notice_offer", {})]


def _answer_notice(ctx: Any, waiting: str) -> Optional[List[Reply]]:
    if waiting == "notice_offer":
        if _NO.match(ctx.text) or ctx.intent == "deny":
            return [("utter_notice_declined", {})]
        if _YES.match(ctx.text) or ctx.intent == "affirm":
            ctx.conv.awaiting = "notice_topics"
            return [("utter_notice_topics", {})]
        return None
    if waiting == "notice_topics":
        topics = _topics(ctx.text)
        if not topics:
            return None if len(ctx.text) > 40 else [("utter_notice_declined", {})]
        ctx.conv.support = {**(ctx.conv.support or {}), "topics": topics}
        if ctx.channel == "line":
            ctx.extra_effects.append(Subscribe("line", topics))
            return [("utter_notice_line_done", {})]
        ctx.conv.awaiting = "notice_email"
        return [("utter_notice_ask_email", {})]
    kind, email = parse_contact(ctx.message.text)
    if kind == "email":
        ctx.extra_effects.append(Subscribe("email", list((ctx.conv.support or {}).get("topics") or []), email))
        return [("utter_notice_email_sent", {})]
    return [("utter_notice_declined", {})] if len(ctx.text) <= 40 else None


def _topics(text: str) -> List[str]:
    known = [t["id"] for t in supportinfo.topics()]
    if _ALL.search(text):
        return known
    return [t for t in known if re.search(_TOPIC_WORDS.get(t, "$^"), text)]


def _stop(ctx: Any) -> List[Reply]:
    ctx.conv.awaiting = ""
    if ctx.channel == "line":
        ctx.extra_effects.append(Unsubscribe())
        return [("utter_notice_stopped", {})]
    return [("utter_notice_stop_by_link", {})]
