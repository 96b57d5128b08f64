"""What the bot says after the triage: one gentle step at a time.

Pure logic: given an assessment and what was already said, return the responses
to utter (names of domain responses with their template values) and the new
bookkeeping. The action server turns these into dispatcher calls.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from bot import catalog, triage
from bot.triage import Assessment

# Intents with a fixed reply, uttered here so that 「こんにちは、母の介護で…」 is greeted
# and then heard. The FAQ answer is the one the response selector chose.
FIXED_REPLIES = {
    "greet": "utter_greet",
    "goodbye": "utter_goodbye",
    "thank": "utter_you_are_welcome",
    "bot_challenge": "utter_iamabot",
}

Reply = Tuple[str, Dict[str, Any]]


@dataclass
class State:
    """What the bot already did in this conversation (kept in slots)."""

    asked: List[str] = field(default_factory=list)
    crisis_lines_given: bool = False
    destinations_given: List[str] = field(default_factory=list)
    awaiting: str = ""  # the question asked last turn, if any
    consent: str = ""  # "", "asked", "yes" or "no"
    handoff_ref: str = ""
    contact_tries: int = 0
    # Effects for the action to carry out: create the hand-off, store a contact.
    create_handoff: bool = False
    contact: Optional[str] = None


# Filled in by the action once the hand-off exists.
REF = "{ref}"
_YES = re.compile(
    r"^(はい|うん|ええ|お願い|おねがい|いいよ|いいです|いい|大丈夫|だいじょうぶ|つないで|yes|ok|okay|おっけー|オッケー|よろしく)"
)
_NO = re.compile(r"^(いいえ|いや|やめ|いらない|結構|けっこう|だめ|ダメ|遠慮|えんりょ|no|やっぱり)")
_NO_CONTACT = re.compile(r"なし|ない|いらない|匿名|とくめい|残さない|のこさない|結構|けっこう|大丈夫|だいじょうぶ|no|パス|言いたくない")
_EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(\.[\w-]+)+$")


def parse_contact(text: str) -> Tuple[str, Optional[str]]:
    """Read a contact answer: ("email"|"phone", value), ("none", None) or ("invalid", None)."""
    t = unicodedata.normalize("NFKC", text or "").strip().lower()
    compact = re.sub(r"[\s\-()ー‐―]", "", t)
    if _EMAIL.match(t.replace(" ", "")):
        return "email", t.replace(" ", "")
    if re.fullmatch(r"0\d{9,10}", compact):
        return "phone", compact
    if _NO_CONTACT.search(t):
        return "none", None
    return "invalid", None


# An answer to the bot's question is short and often looks like a question to the NLU
# (「平日はフルタイムで働いてます」 -> faq): read these intents as an answer then.
ANSWER_LOOKALIKES = {"faq", "out_of_scope", "nlu_fallback"}


def easy_japanese(a: Assessment) -> bool:
    """Return True when the bot should speak やさしい日本語 (a child is writing)."""
    f = a.facts
    if a.user_role == "employer" or f.professional:
        return False
    if a.user_role == "supporter":  # a child worried about a friend, not a teacher about a pupil
        return f.childlike or f.stage == "child"
    return f.stage == "child" or (f.stage is None and f.childlike)


def _destination_replies(a: Assessment, state: State, easy: bool) -> List[Reply]:
    new = [d for d in a.handoff_destinations if d not in state.destinations_given]
    if not new:
        return []
    replies: List[Reply] = [("utter_destinations_intro", {})]
    for dest_id in new:
        d = catalog.destination(dest_id)
        what = d.get("what_easy") if easy and d.get("what_easy") else d["what"]
        contact = catalog.contact_text(dest_id)
        replies.append(
            (
                "utter_destination",
                {
                    "name": d["name"],
                    "what": what + (f"（{contact}）" if contact else ""),
                    "measures": "・".join(_support_measures(d.get("measures") or [])),
                },
            )
        )
    state.destinations_given.extend(new)
    return replies


def _support_measures(measures: List[str]) -> List[str]:
    # Measures of (3) "施策の推進" are what a person can use; (1) publicity and (2) the
    # system behind them are shown only when a destination has nothing else.
    direct = [m for m in measures if m.startswith("6-3-") and not m.startswith(("6-3-1-", "6-3-2-"))]
    return direct or measures[:1] or ["-"]


def _about_kind(a: Assessment) -> str:
    if a.user_role == "employer":
        return "utter_about_employer"
    for kind in ("young_carer", "youth_carer", "business_carer", "carer"):
        if kind in a.carer_types:
            return f"utter_about_{kind}"
    return "utter_about_carer"


_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def written_in_english(text: str) -> bool:
    """True for a message with no Japanese at all and at least three Latin words ("hi" alone is not)."""
    t = unicodedata.normalize("NFKC", text or "")
    return not _JAPANESE.search(t) and len(_LATIN_WORD.findall(t)) >= 3


def plan(a: Assessment, intent: str, state: State, latest_text: str = "", faq_response: str = "") -> List[Reply]:
    """Return the replies for this turn and update ``state`` in place.

    A conversation that reads like danger without a known sign gets, once, a gentle safety check
    with the crisis lines; heavy distress without either gets, once, a line that listens day and night.
    A person writing in English is told once, in English, that the replies are in Japanese
    (after the emergency and crisis lines, if any): the triage reads English, the responses are Japanese.
    """
    if "danger_check" in state.asked:
        a.facts.possible_danger = True  # once asked, staff are told, even if later messages read lighter
    replies = _plan(a, intent, state, latest_text, faq_response)
    if a.facts.distress and not a.crisis and "distress_line" not in state.asked:
        # Heavy, but no danger sign: one line that listens day and night, after the thanks.
        state.asked.append("distress_line")
        child = easy_japanese(a) or a.facts.stage == "child"
        line = catalog.format_crisis_line("child_sos" if child else "yorisoi")
        names = [name for name, _ in replies]
        at = names.index("utter_thanks_for_sharing") + 1 if "utter_thanks_for_sharing" in names else 0
        replies.insert(at, ("utter_distress_line", {"line": line}))
    if written_in_english(latest_text) and "english_note" not in state.asked:
        state.asked.append("english_note")
        at = sum(1 for name, _ in replies if name in ("utter_emergency", "utter_crisis"))
        replies.insert(at, ("utter_english_note", {}))
    return replies


def _plan(a: Assessment, intent: str, state: State, latest_text: str = "", faq_response: str = "") -> List[Reply]:
    """Return the replies for this turn and update ``state`` in place.

    Args:
        a: the assessment of the whole conversation so far.
        intent: the intent of the latest message.
        state: what the bot already did; updated.
        latest_text: the latest message, to tell a bare greeting from one with a story.
        faq_response: for the faq intent, the response the response selector chose.
    """
    easy = easy_japanese(a)
    replies: List[Reply] = []
    answering, state.awaiting = state.awaiting, ""
    text = unicodedata.normalize("NFKC", latest_text or "").strip().lower()
    # 「いいえ」 starts like 「いいよ」: read a no before a yes.
    if answering == "consent" and (intent == "deny" or _NO.match(text)):
        state.consent = "no"
        return [("utter_handoff_declined", {})] + _contact_info(a)
    if answering == "consent" and (intent == "affirm" or _YES.match(text)):
        return _consented(a, state)
    if answering == "contact":
        kind, value = parse_contact(latest_text)
        if kind in ("email", "phone"):
            state.contact = value
            return [("utter_contact_saved", {"ref": state.handoff_ref})]
        if kind == "none":
            return [("utter_contact_none", {"ref": state.handoff_ref})]
        if state.contact_tries < 1 and intent not in ("share_situation", "crisis", "employer_question", "supporter_concern"):
            state.contact_tries += 1
            state.awaiting = "contact"
            return [("utter_contact_invalid", {})]
    said_yes = intent != "deny" and not _NO.match(text) and (intent == "affirm" or bool(_YES.match(text)))
    if answering == "danger_check" and not a.crisis and said_yes:
        # 「はい」 to 「危ないことが起きていますか」: in danger. The lines were just shown: ask to hand off now.
        a.crisis = True
        state.crisis_lines_given = True
        if not state.consent:
            state.consent, state.awaiting = "asked", "consent"
            return [("utter_ask_consent_crisis", {})]
    if answering and intent in ANSWER_LOOKALIKES:
        intent = "inform"
    if a.facts.emergency and "emergency" not in state.asked:
        # Someone collapsed, is not breathing, took too many pills: 119 comes before anything else.
        state.asked.append("emergency")
        replies.append(("utter_emergency", {"line": catalog.format_crisis_line("emergency_fire")}))
    if a.crisis and not state.crisis_lines_given:
        # The children's line is shown unless the person is known to be an adult.
        adult = a.facts.stage in ("youth", "adult") or a.user_role in ("employer",)
        replies.append(("utter_crisis", {"lines": catalog.format_crisis_lines(child=not adult)}))
        state.crisis_lines_given = True
        if not state.consent:
            # In danger, the hand-off does not wait for the profile.
            state.consent, state.awaiting = "asked", "consent"
            return replies + [("utter_ask_consent_crisis", {})]
    if a.facts.possible_danger and not a.crisis and "danger_check" not in state.asked and intent not in FIXED_REPLIES:
        # No known danger sign, but the whole reads like one (bot.triage.danger_model): ask once, plainly, with the
        # lines, and nothing else this turn, so that a 「はい」 answers this question.
        state.asked += ["danger_check", "distress_line"]
        state.awaiting = "danger_check"
        adult = a.facts.stage in ("youth", "adult") or a.user_role == "supporter"
        return _thank_once(a, state) + [("utter_danger_check", {"lines": catalog.format_crisis_lines(child=not adult)})]
    fixed = FIXED_REPLIES.get(intent) or (faq_response if intent == "faq" else None)
    if fixed:
        said = triage.read_facts([latest_text]) if latest_text else None
        story = bool(said and (said.care or said.relations or said.conditions))
        if intent == "faq" and story:
            fixed = None  # a story asked as a question: listen to the story first
        if fixed:
            replies.append((fixed, {}))
        if not story:
            return replies
    if intent == "decline_to_say":
        replies.append(("utter_ok_not_to_say", {}))

    f = a.facts
    if not a.carer_types:
        if a.handoff_destinations:
            replies += _destination_replies(a, state, easy)
        elif intent == "out_of_scope" and not a.crisis:
            replies.append(("utter_out_of_scope", {}))
        elif not replies or replies[-1][0] == "utter_ok_not_to_say":
            replies.append(("utter_ask_situation", {}))
        return replies

    replies += _thank_once(a, state)
    if a.user_role == "carer" and not f.declined:
        for question, missing in (
            ("age", f.stage is None),
            ("who", not f.relations and not f.conditions),
            ("work", f.stage in ("youth", "adult") and f.working is None and not f.student),
        ):
            if missing and question not in state.asked:
                state.asked.append(question)
                state.awaiting = question
                return replies + [(f"utter_ask_{question}", {})]
    dest_replies = _destination_replies(a, state, easy)
    if dest_replies:
        kind = _about_kind(a)
        if kind not in state.asked:
            state.asked.append(kind)
            replies.append((kind, {}))
        replies += dest_replies
        if not state.consent and a.handoff_destinations:
            state.consent, state.awaiting = "asked", "consent"
            replies.append(("utter_ask_consent", {"name": catalog.destination(a.handoff_destinations[0])["name"]}))
    elif not replies:
        replies.append(("utter_thanks_for_sharing", {}))
    return replies


def _thank_once(a: Assessment, state: State) -> List[Reply]:
    """A carer is thanked for sharing once per conversation (not in a crisis, where the lines come first)."""
    if a.user_role != "carer" or "thanked" in state.asked:
        return []
    state.asked.append("thanked")
    return [] if a.crisis else [("utter_thanks_for_sharing", {})]


def handoff_destinations(a: Assessment) -> List[str]:
    """Where a hand-off goes: the triage's destinations, or (a crisis with no profile yet)
    こども家庭相談課 for a child and 福祉総務課, which coordinates, for anyone else."""
    return a.handoff_destinations or (["kodomo_katei_soudan"] if easy_japanese(a) else ["fukushi_somu"])


def _consented(a: Assessment, state: State) -> List[Reply]:
    state.consent = "yes"
    state.create_handoff = True
    state.awaiting = "contact"
    first = handoff_destinations(a)[0]
    return [
        ("utter_handoff_done", {"ref": REF, "name": catalog.destination(first)["name"]}),
        ("utter_ask_contact", {}),
    ]


def _contact_info(a: Assessment) -> List[Reply]:
    replies = []
    for dest_id in a.handoff_destinations or ["fukushi_somu"]:
        contact = catalog.contact_text(dest_id) or "連絡先は、鎌倉市のホームページか市役所の総合案内でご確認いただけます"
        replies.append(("utter_contact_info", {"name": catalog.destination(dest_id)["name"], "contact": contact}))
    return replies


_LABELS = {
    "relations": {
        "mother": "母", "father": "父", "parent": "親", "grandparent": "祖父母", "parent_in_law": "義理の親",
        "sibling": "きょうだい", "spouse": "配偶者", "child": "子", "grandchild": "孫", "relative": "親族",
    },
    "conditions": {
        "dementia": "認知症", "elderly": "高齢", "disability": "障害", "development": "発達の心配",
        "mental": "こころの病気", "addiction": "依存症", "illness": "病気", "weak_illness": "通院・体調",
        "foreign": "日本語の支援",
    },
    "needs": {
        "place": "居場所", "peers": "同じ立場の人との交流", "eat": "食事の場", "money": "お金の困りごと",
        "food": "食べ物の困りごと", "work": "仕事", "parenting": "子育て", "kaigo_hoken": "介護保険",
        "disability_service": "障害福祉サービス", "rest": "休息", "study": "学業",
    },
    "stage": {"child": "18歳未満（小中高生）", "youth": "18〜39歳", "adult": "40歳以上"},
    "role": {"carer": "本人", "employer": "事業者・職場", "supporter": "支援者・周りの人", "other": "その他"},
}


def summarize(a: Assessment) -> str:
    """Write a short summary of the extracted facts for the section's staff."""
    f = a.facts
    age = f"{f.carer_age}歳" if f.carer_age else _LABELS["stage"].get(f.stage or "", "不明")
    work = {True: "就労あり", False: "就労なし", None: "不明"}[f.working] + ("・学生" if f.student else "")
    parts = [
        f"相談者: {_LABELS['role'][a.user_role]}",
        f"ケアラーの年代: {age}（{work}）",
        "ケアの相手: " + ("・".join(_LABELS["relations"][r] for r in sorted(f.relations)) or "不明"),
        "理由: " + ("・".join(_LABELS["conditions"][c] for c in sorted(f.conditions)) or "不明"),
        "希望: " + ("・".join(_LABELS["needs"][n] for n in sorted(f.needs)) or "特になし"),
    ]
    if a.crisis:
        parts.insert(0, "【危険のサインあり】")
    elif f.possible_danger:
        # The second reader was worried and the person did not say yes: staff should look first.
        parts.insert(0, "【要確認: 危険の可能性（本人は否定または未回答）】")
    return " / ".join(parts)
