"""One turn of the conversation: the state and the new message in, the replies and the effects out.

    take_turn(conversation, texts, message) -> Turn(replies, conversation, effects, assessment)

The same function runs in the Rasa action (bot.rasa.assess_action), in `make eval`, in the tests and,
later, in other channels. It reads the whole session with the triage, decides once whether the
conversation is a crisis (`_decide_crisis`: it stays on), and then takes the first step that applies:

1. an answer to the bot's last question: the consent to hand off, a contact, the safety check;
2. the overrides: a medical emergency (119 first), a crisis (the lines, then the consent);
3. the safety check, once, when the learned reader is unsure;
4. a fixed reply (greeting, thanks, FAQ) unless the message also tells a story;
5. the profile questions (age, who, work), one at a time;
6. the destinations, with the consent to hand off.

It stores nothing: what must be stored is returned as effects (bot.dialogue.effects) for the caller,
and a reply that needs the new hand-off's reference carries HANDOFF_REF until the caller fills it in.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
from typing import List, Optional, Sequence

from bot import catalog, triage
from bot.channels import LINE_CONTACT
from bot.dialogue import replies as said
from bot.dialogue import support
from bot.dialogue.contact import parse_contact
from bot.dialogue.effects import Effect, RecordDanger, SaveHandoff, StoreContact
from bot.dialogue.replies import HANDOFF_REF, Reply
from bot.dialogue.state import Conversation
from bot.dialogue.style import easy_japanese, speech_style, writer, written_in_english
from bot.dialogue.summary import summarize
from bot.language.japanese import MAX_CHARS
from bot.triage import Assessment

# Intents with a fixed reply, uttered here so that 「こんにちは、母の介護で…」 is greeted
# and then heard. The FAQ answer is the one the response selector chose.
FIXED_REPLIES = {
    "greet": "utter_greet",
    "goodbye": "utter_goodbye",
    "thank": "utter_you_are_welcome",
    "bot_challenge": "utter_iamabot",
}
# An answer to the bot's question is short and often looks like a question to the NLU
# (「平日はフルタイムで働いてます」 -> faq): read these intents as an answer then.
ANSWER_LOOKALIKES = {"faq", "out_of_scope", "nlu_fallback"}
# On LINE, the person may ask to be answered in the same talk: 「LINE」「ライン」「このトークで」「ここで」.
_BY_LINE = re.compile(r"line|ライン|らいん|ﾗｲﾝ|トーク|とーく|ここで|このまま")
# Intents that tell more of the story: not a second try at a contact.
STORY_INTENTS = ("share_situation", "crisis", "employer_question", "supporter_concern")
_YES = re.compile(
    r"^(はい|うん|ええ|お願い|おねがい|いいよ|いいです|いい|大丈夫|だいじょうぶ|つないで|yes|ok|okay|おっけー|オッケー|よろしく)"
)
_NO = re.compile(r"^(いいえ|いや|やめ|いらない|結構|けっこう|だめ|ダメ|遠慮|えんりょ|no|やっぱり)")


@dataclasses.dataclass(frozen=True)
class Message:
    """The new message: its text, the intent the NLU read, and for an FAQ the response it chose."""

    text: str = ""
    intent: str = ""
    faq_response: str = ""


@dataclasses.dataclass
class Turn:
    """What a turn decided: the replies (in order), the new state, the effects for the caller."""

    replies: List[Reply]
    conversation: Conversation
    effects: List[Effect]
    assessment: Assessment

    @property
    def easy(self) -> bool:
        """The replies are in やさしい日本語 (a child is writing)."""
        return easy_japanese(self.assessment)

    @property
    def style(self) -> str:
        """The register of the replies: "easy", "standard" or "plain" (bot.dialogue.style)."""
        return speech_style(self.assessment)


@dataclasses.dataclass
class _Context:
    a: Assessment
    conv: Conversation
    message: Message
    intent: str
    answering: str  # what the bot asked last turn
    text: str  # the message, NFKC, lower case
    easy: bool
    texts: Sequence[str]  # the session's messages, the new one last
    now: dt.datetime  # which lines are open at this hour
    channel: str = "web"  # "line": the person writes on LINE (bot.channels), and may be answered there
    crisis_by_answer: bool = False  # 「はい」 to the safety check
    extra_effects: List[Effect] = dataclasses.field(default_factory=list)  # the support tool's and notices' (issue 17)
    create_handoff: bool = False
    contact: Optional[str] = None


def handoff_destinations(a: Assessment) -> List[str]:
    """Where a hand-off goes: the triage's destinations, or (a crisis with no profile yet)
    こども家庭相談課 for a child and 福祉総務課, which coordinates, for anyone else."""
    return a.handoff_destinations or (["kodomo_katei_soudan"] if easy_japanese(a) else ["fukushi_somu"])


def take_turn(conversation: Conversation, texts: Sequence[str], message: Message, now: Optional[dt.datetime] = None,
              channel: str = "web") -> Turn:
    """Take one turn. ``texts``: the user's messages of this session, oldest first, the new one last
    (without button payloads); ``conversation`` is not changed (the new state is in the Turn);
    ``now``: the time, for the lines' opening hours (default: now); ``channel``: "web" or "line"."""
    conv = conversation.copy()
    a = triage.assess(texts, asked=conv.asked)
    text = unicodedata.normalize("NFKC", message.text or "").strip().lower()
    ctx = _Context(a, conv, message, message.intent, conv.awaiting, text, easy_japanese(a), texts,
                   now or dt.datetime.now(catalog.JST), channel)
    _decide_crisis(ctx)
    if conv.staff:  # a member of staff holds the conversation: they answer, the bot only reads
        conv.crisis = a.crisis
        return Turn([], conv, _effects(ctx, texts), a)
    conv.awaiting = ""
    replies = _add_notes(ctx, _steps(ctx))
    if len(message.text or "") > MAX_CHARS:
        replies.insert(0, ("utter_too_long", {}))
    conv.crisis = a.crisis
    return Turn(replies, conv, _effects(ctx, texts), a)


def _decide_crisis(ctx: _Context) -> None:
    """The one place that decides whether the conversation is a crisis: the triage read danger now
    (lexicon or learned reader), or it did on an earlier turn (a crisis stays on), or the person
    answered 「はい」 to the safety check. Once asked, staff are told of the possible danger too."""
    conv, a = ctx.conv, ctx.a
    if "danger_check" in conv.done:
        a.facts.possible_danger = True  # even if later messages read lighter
    said_yes = ctx.intent != "deny" and not _NO.match(ctx.text) and (ctx.intent == "affirm" or bool(_YES.match(ctx.text)))
    ctx.crisis_by_answer = ctx.answering == "danger_check" and said_yes and not (a.crisis or conv.crisis)
    a.crisis = a.crisis or conv.crisis or ctx.crisis_by_answer


def _steps(ctx: _Context) -> List[Reply]:
    """The first step that applies (see the module's docstring)."""
    for answer in (_answer_consent, _answer_contact, _answer_danger_check, support.answer):
        replies = answer(ctx)
        if replies is not None:
            return replies + support.offer(ctx)
    if ctx.answering and ctx.intent in ANSWER_LOOKALIKES:
        ctx.intent = "inform"
    replies = _emergency(ctx)
    for override in (_crisis, _safety_check):
        final = override(ctx, replies)
        if final is not None:
            return final
    started = support.start(ctx)  # 「使える手当はある？」, 「配信停止」: the support tool (issue 17)
    if started is not None:
        return replies + started
    replies, story = _fixed_reply(ctx, replies)
    if not story:
        return replies
    if ctx.intent == "decline_to_say":
        replies.append(("utter_ok_not_to_say", {}))
    if not ctx.a.carer_types:
        return replies + _no_carer(ctx, replies)
    replies += said.thank_once(ctx.a, ctx.conv)
    return replies + (_profile_question(ctx) or _destinations(ctx, replies))


# --- 1. answers to the bot's last question -------------------------------------------------------

def _answer_consent(ctx: _Context) -> Optional[List[Reply]]:
    if ctx.answering != "consent":
        return None
    # 「いいえ」 starts like 「いいよ」: read a no before a yes.
    if ctx.intent == "deny" or _NO.match(ctx.text):
        ctx.conv.consent = "no"
        return [("utter_handoff_declined", {})] + said.contact_info(ctx.a, ctx.easy)
    if ctx.intent == "affirm" or _YES.match(ctx.text):
        ctx.conv.consent, ctx.conv.awaiting, ctx.create_handoff = "yes", "contact", True
        first = handoff_destinations(ctx.a)[0]
        return [("utter_handoff_done", {"ref": HANDOFF_REF, "name": said.name_of(first, ctx.easy)}),
                *_live_chat(ctx, first), ("utter_ask_contact_line" if ctx.channel == "line" else "utter_ask_contact", {})]
    return None


def _live_chat(ctx: _Context, section: str) -> List[Reply]:
    """Whether a member of the section's staff may answer in this chat (issue 15): offered only within
    the hours the city set in the catalog; outside them, when they can; nothing when none are set."""
    hours = catalog.live_hours(section)
    if not hours:
        return []
    name = said.name_of(section, ctx.easy)
    if catalog.live_open(section, ctx.now):
        return [("utter_live_offer", {"name": name})]
    return [("utter_live_hours", {"name": name, "hours": hours.get("text", "")})]


def _answer_contact(ctx: _Context) -> Optional[List[Reply]]:
    if ctx.answering != "contact":
        return None
    kind, value = parse_contact(ctx.message.text)
    if kind == "invalid" and ctx.channel == "line" and _BY_LINE.search(ctx.text):
        ctx.contact = LINE_CONTACT  # the city answers in this LINE talk (a push from the console)
        return [("utter_contact_line", {"ref": ctx.conv.handoff_ref})]
    if kind in ("email", "phone"):
        ctx.contact = value
        return [("utter_contact_saved", {"ref": ctx.conv.handoff_ref})]
    if kind == "none":
        return [("utter_contact_none", {"ref": ctx.conv.handoff_ref})]
    if ctx.conv.contact_tries < 1 and ctx.intent not in STORY_INTENTS:
        ctx.conv.contact_tries += 1
        ctx.conv.awaiting = "contact"
        return [("utter_contact_invalid", {})]
    return None  # a story instead of a contact: listen to it


def _answer_danger_check(ctx: _Context) -> Optional[List[Reply]]:
    if not ctx.crisis_by_answer:
        return None
    # 「はい」 to 「危ないことが起きていますか」: in danger. The lines were just shown: ask to hand off now.
    ctx.conv.crisis_lines_given = True
    if ctx.conv.consent:
        return None
    ctx.conv.consent, ctx.conv.awaiting = "asked", "consent"
    return [("utter_ask_consent_crisis", {})]


# --- 2. and 3. the overrides and the safety check ---------------------------------------------------

def _emergency(ctx: _Context) -> List[Reply]:
    # Someone collapsed, is not breathing, took too many pills: 119 comes before anything else.
    if ctx.a.facts.emergency and ctx.conv.once("emergency"):
        return [("utter_emergency", {"line": catalog.format_crisis_line("emergency_fire")})]
    return []


def _crisis(ctx: _Context, replies: List[Reply]) -> Optional[List[Reply]]:
    a, conv = ctx.a, ctx.conv
    if not a.crisis or conv.crisis_lines_given:
        return None
    # The lines for who is writing and for the danger (at most three, the most fitting first); the
    # children's line is among them unless the writer is known to be an adult.
    who = writer(a)
    # Violence in a home where a child cares (a teacher about a pupil, a neighbour): a child is harmed.
    kind = triage.danger_kind(ctx.texts, child_writer=who == "child" or a.facts.stage == "child")
    replies.append(("utter_crisis", {"lines": said.crisis_lines(who, kind, ctx.now)}))
    conv.crisis_lines_given = True
    if conv.consent:
        return None
    # In danger, the hand-off does not wait for the profile.
    conv.consent, conv.awaiting = "asked", "consent"
    return replies + [("utter_ask_consent_crisis", {})]


def _safety_check(ctx: _Context, replies: List[Reply]) -> Optional[List[Reply]]:
    a, conv = ctx.a, ctx.conv
    if not a.facts.possible_danger or a.crisis or "danger_check" in conv.done or ctx.intent in FIXED_REPLIES:
        return None
    # No known danger sign, but the whole reads like one (the learned reader): ask once, plainly, with
    # the lines, and nothing else this turn, so that a 「はい」 answers this question.
    conv.done += ["danger_check", "distress_line"]
    conv.awaiting = "danger_check"
    lines = said.crisis_lines(writer(a), "unsure", ctx.now)  # the kind of danger is not known yet
    return replies + said.thank_once(a, conv) + [("utter_danger_check", {"lines": lines})]


# --- 4. to 6. the conversation itself -----------------------------------------------------------------

def _fixed_reply(ctx: _Context, replies: List[Reply]) -> tuple:
    """(replies, whether to go on): a greeting or FAQ alone is answered; one that tells a story
    (「こんにちは、母の介護で…」) is answered and then heard, and an FAQ that is a story is heard only."""
    fixed = FIXED_REPLIES.get(ctx.intent) or (ctx.message.faq_response if ctx.intent == "faq" else None)
    if not fixed:
        return replies, True
    facts = triage.read_facts([ctx.message.text]) if ctx.message.text else None
    story = bool(facts and (facts.care or facts.relations or facts.conditions))
    if not (ctx.intent == "faq" and story):
        replies.append((fixed, {}))
    return replies, story


def _no_carer(ctx: _Context, replies: List[Reply]) -> List[Reply]:
    """No one cared for yet: a place asked about, an out-of-scope answer, or an open question."""
    if ctx.a.handoff_destinations:
        return said.destinations(ctx.a, ctx.conv, ctx.easy)
    if ctx.intent == "out_of_scope" and not ctx.a.crisis:
        return [("utter_out_of_scope", {})]
    if not replies or replies[-1][0] == "utter_ok_not_to_say":
        return [("utter_ask_situation", {})]
    return []


def _profile_question(ctx: _Context) -> List[Reply]:
    """The first profile question that is missing and not asked yet (a carer who declined is not asked)."""
    a, f, conv = ctx.a, ctx.a.facts, ctx.conv
    if a.user_role != "carer" or f.declined:
        return []
    for question, missing in (
        ("age", f.stage is None),
        ("who", not f.relations and not f.conditions),
        ("work", f.stage in ("youth", "adult") and f.working is None and not f.student),
    ):
        if missing and question not in conv.asked:
            conv.asked.append(question)
            conv.awaiting = question
            return [(f"utter_ask_{question}", {})]
    return []


def _destinations(ctx: _Context, replies: List[Reply]) -> List[Reply]:
    """The new destinations, once the explanation for this kind of carer, and the consent question."""
    a, conv = ctx.a, ctx.conv
    new = said.destinations(a, conv, ctx.easy)
    if not new:
        return [] if replies else [("utter_thanks_for_sharing", {})]
    kind = said.about_kind(a)
    out = ([(kind, {})] if conv.once(kind) else []) + new
    if not conv.consent and a.handoff_destinations:
        conv.consent, conv.awaiting = "asked", "consent"
        out.append(("utter_ask_consent", {"name": said.name_of(a.handoff_destinations[0], ctx.easy)}))
    return out


def _add_notes(ctx: _Context, replies: List[Reply]) -> List[Reply]:
    """Heavy distress without a danger sign: one line that listens day and night, after the thanks.
    A person writing in English is told once, in English, that the replies are in Japanese (after the
    emergency and crisis lines, if any): the triage reads English, the responses are Japanese."""
    a, conv = ctx.a, ctx.conv
    if a.facts.distress and not a.crisis and conv.once("distress_line"):
        line = catalog.format_crisis_line("child_sos" if ctx.easy else "yorisoi", ctx.now)
        names = [name for name, _ in replies]
        at = names.index("utter_thanks_for_sharing") + 1 if "utter_thanks_for_sharing" in names else 0
        replies.insert(at, ("utter_distress_line", {"line": line}))
    if written_in_english(ctx.message.text) and conv.once("english_note"):
        at = sum(1 for name, _ in replies if name in ("utter_emergency", "utter_crisis"))
        replies.insert(at, ("utter_english_note", {}))
    return replies


# --- effects --------------------------------------------------------------------------------------------

def _effects(ctx: _Context, texts: Sequence[str]) -> List[Effect]:
    """What the caller stores: the hand-off (created on a yes, then kept up to date), the contact, and
    once per case why it is a crisis."""
    a, conv = ctx.a, ctx.conv
    if not ctx.create_handoff and not conv.handoff_ref:
        return list(ctx.extra_effects)  # no hand-off in this conversation: no hand-off work on this turn
    effects: List[Effect] = [*ctx.extra_effects,
                             SaveHandoff(create=not conv.handoff_ref, carer_types=list(a.carer_types), user_role=a.user_role,
                                         destinations=handoff_destinations(a), crisis=a.crisis, summary=summarize(a))]
    if ctx.contact:
        effects.append(StoreContact(ctx.contact))
    if a.crisis and not conv.danger_recorded:
        why = triage.danger_evidence(texts, a.facts.danger_reader)
        turn = None if why["reader"] == "answer" else int(why["turn"])
        effects.append(RecordDanger(str(why["reader"]), turn, str(why["words"]), why["score"]))
        conv.danger_recorded = True
    return effects
