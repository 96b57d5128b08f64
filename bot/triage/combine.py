"""Combining the messages of a conversation into the facts: does the person care, who writes, how old, working?

Each message is read once (``bot.triage.message``); here what they say is weighed together, in
order: a later age replaces an earlier one, a word said once (a role, a care task) counts for the
whole conversation, and whether the person cares at all is decided only at the end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Set

from bot.triage import lexicon as lx
from bot.triage import work
from bot.triage.ages import stage_of_age
from bot.triage.message import MessageFacts, read_message

_CARING_VERBS = re.compile(lx.CARING_VERBS)
_STRONG_CARE = re.compile(lx.STRONG_CARE)
_INTERPRETING = re.compile(lx.INTERPRETING)
_CHILD_DESCRIBED = re.compile(lx.CHILD_DESCRIBED)
_CARED_BY_CHILD = re.compile(lx.CARED_BY_CHILD)
_BEREAVED = re.compile(lx.BEREAVED)
_DEFINITION = re.compile(lx.DEFINITION_QUESTION)
# Who may care for a writer who is the person cared for (a mother in chemotherapy, a grandmother after a stroke).
_CARED_FOR_BY = {"child", "grandchild", "sibling"}
# An age this high, written by a supporter who describes a child, is the supporter's own.
_SUPPORTERS_OWN_AGE = 40
# Conditions that alone do not make care: speaking another language, a cold, a first worry about development.
_WEAK_CONDITIONS = {"foreign", "weak_illness", "development"}


@dataclass
class Facts:
    """What the conversation has told so far. Empty sets and None mean unknown."""

    care: bool = False
    receiving_care: bool = False
    relations: Set[str] = field(default_factory=set)
    named: List[str] = field(default_factory=list)  # destinations the person named
    conditions: Set[str] = field(default_factory=set)
    needs: Set[str] = field(default_factory=set)
    role: str = "other"
    carer_age: Optional[int] = None  # an age, or the lower end of a decade/stage
    stage: Optional[str] = None  # child | youth | adult
    working: Optional[bool] = None
    student: bool = False
    crisis: bool = False
    emergency: bool = False  # a medical emergency: call 119 first
    distress: bool = False  # heavy distress without a danger sign
    possible_danger: bool = False  # no danger sign, bot.triage.danger_model between its thresholds: ask once
    danger_reader: str = ""  # what raised the crisis flag: "lexicon" or "model" (staff see why)
    declined: bool = False
    childlike: bool = False
    professional: bool = False  # the writer introduced a job or a business (a teacher, an employer)

    def as_dict(self) -> Dict[str, object]:
        """Return the facts as plain JSON-able values (for slots and summaries)."""
        return {
            "care": self.care,
            "relations": sorted(self.relations),
            "conditions": sorted(self.conditions),
            "needs": sorted(self.needs),
            "role": self.role,
            "carer_age": self.carer_age,
            "stage": self.stage,
            "working": self.working,
            "crisis": self.crisis,
        }


@dataclass
class _Seen:
    """Words seen in any message so far, that are weighed only at the end of the conversation."""

    employer: bool = False
    boss: bool = False
    supporter: bool = False
    mention: bool = False
    intro: bool = False
    care_words: bool = False
    not_caring: bool = False
    self_care: bool = False
    receiver_condition: bool = False
    self_ref: bool = False
    job: work.Working = None  # the writer's work, last said
    side_job: Optional[bool] = None
    job_without_intro: work.Working = None  # the work of the person a supporter describes
    parts: List[str] = field(default_factory=list)  # every message, surface and reading

    def add(self, m: MessageFacts) -> None:
        self.employer, self.boss = self.employer or m.employer, self.boss or m.boss
        self.supporter, self.mention = self.supporter or m.supporter, self.mention or m.mention
        self.intro = self.intro or m.intro
        self.care_words = self.care_words or m.care_words
        self.not_caring = self.not_caring or m.not_caring
        self.self_care = self.self_care or m.self_care
        self.receiver_condition = self.receiver_condition or m.receiver_condition
        self.self_ref = self.self_ref or m.self_ref
        if m.working is not None:
            self.job, self.side_job = (m.working, self.side_job) if m.working != "side_job" else (self.job, True)
        if m.working_anyone is not None and m.working_anyone != "side_job":
            self.job_without_intro = m.working_anyone
        self.parts.append(m.everything)


def _add_message(facts: Facts, m: MessageFacts) -> None:
    """Add what one message says to the facts (the words weighed at the end go to ``_Seen``)."""
    facts.crisis = facts.crisis or m.crisis
    facts.emergency = facts.emergency or m.emergency
    facts.distress = facts.distress or m.distress
    facts.relations |= m.relations
    facts.conditions |= m.conditions
    facts.needs |= m.needs
    facts.named += [d for d in m.named if d not in facts.named]
    if m.older_receiver:
        facts.conditions.add("elderly")
    facts.receiving_care = facts.receiving_care or m.receiving
    facts.declined = facts.declined or m.declined
    _add_age(facts, m)
    facts.student = facts.student or m.student
    facts.childlike = facts.childlike or m.childlike


def _add_age(facts: Facts, m: MessageFacts) -> None:
    """The writer's age and stage: a later age replaces an earlier one; a grade or a hint only fills a gap."""
    ages = list(m.ages)
    if ages and facts.carer_age is not None and m.about_cared_for:
        ages = []  # 「パーキンソン病です。まだ50代で」 after the writer gave her age: the mother's age
    if ages:
        facts.carer_age = ages[-1]
        facts.stage = stage_of_age(ages[-1])
    elif m.stage and (facts.stage is None or facts.carer_age is None):
        facts.stage = m.stage
    elif m.child_hint and facts.stage is None:
        facts.stage = "child"


def _cares(facts: Facts, seen: _Seen, everything: str) -> bool:
    """Whether the person (the writer, or the one a supporter or employer describes) cares for someone."""
    strong = facts.conditions - _WEAK_CONDITIONS
    someone = bool(facts.relations) or seen.employer or seen.supporter or seen.boss
    if seen.not_caring:  # 「家族の介護とかはしていません」 is said plainly: believe it
        return False
    if _helps_others(facts, seen, everything):
        return False
    if _DEFINITION.search(everything) and not facts.relations - {"relative"} and not seen.self_ref:
        return False  # 「ケアラーってどういう人のこと？」 asks what the word means
    if (seen.employer or seen.boss) and facts.relations and (facts.conditions or seen.care_words):
        return True  # an employer writing about an employee's family: the employee cares
    describes_another = seen.supporter or seen.intro or seen.employer or seen.boss
    if facts.receiving_care and not seen.receiver_condition and not describes_another:
        return False  # the writer is cared for; 「手伝ってもらえる仕組み」 asked by a coach is for the pupil
    if not someone and not _CARING_VERBS.search(everything):
        return False  # 「車いすで一人暮らし」: one's own needs, nobody cared for
    if strong and someone:
        return True
    if (seen.employer or seen.boss) and _STRONG_CARE.search(everything):
        return True  # an employer asking about carers in general (「ビジネスケアラーの研修を」): the staff who care
    if seen.care_words and (someone or strong or _STRONG_CARE.search(everything)):
        return True
    return bool("foreign" in facts.conditions and _INTERPRETING.search(everything))


def _helps_others(facts: Facts, seen: _Seen, everything: str) -> bool:
    """Someone who wants to help carers or to learn about them (a volunteer, a neighbourhood
    association, a principal planning a training) and cares for nobody of their own now: a carer who
    has lost the person they cared for (「母を見送りました」) counts among them."""
    if not facts.needs & {"helping", "training"} or seen.supporter or seen.employer:
        return False
    if _CHILD_DESCRIBED.search(everything):
        return False  # a school nurse asking about a pupil who cares
    own = seen.self_ref or seen.self_care
    return not own or bool(_BEREAVED.search(everything))


def _parenting_only(facts: Facts, seen: _Seen) -> bool:
    """Parenting a healthy child, or a first worry about development: not care."""
    strong = facts.conditions - _WEAK_CONDITIONS
    receivers = facts.relations
    if receivers <= {"child", "spouse"} and "child" in receivers and not strong and not seen.employer and not seen.supporter:
        return "development" not in facts.conditions or not seen.care_words
    return False


def _role(facts: Facts, employer: bool, supporter: bool) -> str:
    if employer and facts.care:
        return "employer"
    if facts.care and supporter:
        return "supporter"
    if facts.care:
        return "carer"
    return "other"


def _conclude(facts: Facts, seen: _Seen) -> None:
    """Decide care, role, stage and work from the whole conversation."""
    everything = " ".join(seen.parts)
    if _CARED_BY_CHILD.search(everything) and facts.relations <= _CARED_FOR_BY and not seen.self_care:
        seen.supporter = True  # 「中2の娘が家事を全部やってくれて」: the writer is cared for; the child cares
    facts.care = _cares(facts, seen, everything) and not _parenting_only(facts, seen)
    if (facts.carer_age or 0) >= 70 and facts.relations & {"spouse", "sibling", "parent", "mother", "father"}:
        facts.conditions.add("elderly")  # 老老介護: both are older
    facts.professional = seen.intro or seen.boss
    own_family = seen.self_ref or seen.self_care
    facts.role = _role(
        facts,
        employer=seen.employer or (seen.boss and not own_family and not seen.intro),  # a principal's 研修 is a school's
        supporter=(seen.supporter and not seen.self_care) or ((seen.mention or seen.intro) and not own_family)
        or bool(seen.intro and not seen.self_care and "child" not in facts.relations
                and _CHILD_DESCRIBED.search(everything)),  # 「弟の」 of a pupil, not the teacher's own son
    )
    if (facts.role in ("supporter", "employer") and _CHILD_DESCRIBED.search(everything)
            and (facts.stage is None or (facts.role == "supporter" and (facts.carer_age or 0) >= _SUPPORTERS_OWN_AGE))):
        facts.stage = "child"  # a supporter writing about a pupil: the carer is a child, not the teacher of 45
    facts.student = facts.student or facts.stage == "child"
    job = seen.job_without_intro if facts.role == "supporter" else seen.job
    # A side job counts as work only for someone who is not a student.
    facts.working = job if job is not None else (True if seen.side_job and not facts.student else None)


def read_facts(messages: Sequence[str], asked: Iterable[str] = ()) -> Facts:
    """Read the facts from the user's messages, oldest first.

    Args:
        messages: the user's texts of this conversation.
        asked: names of questions the bot asked before each answer (e.g. "age").
    """
    asked = set(asked)
    facts, seen = Facts(), _Seen()
    texts = [m for m in messages if m and m.strip()]
    for i, text in enumerate(texts):
        m = read_message(text, asked_age=i == len(texts) - 1 and "age" in asked)
        _add_message(facts, m)
        seen.add(m)
    _conclude(facts, seen)
    return facts
