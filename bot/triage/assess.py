"""Triage: from what a person wrote, who is writing, what they carry, where to go.

Pure functions over text; imports neither Rasa nor sanic. ``assess(messages)``
reads every user message of a conversation and returns the four slots of the
contract (``carer_types``, ``user_role``, ``handoff_destinations``, ``crisis``)
plus the facts behind them, so that the bot can ask for what is still missing.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Sequence, Set, Tuple

from bot.language.textmatch import Reading, any_match, compile_patterns
from bot.triage import lexicon as lx

CARER_TYPE_ORDER = ("young_carer", "youth_carer", "business_carer", "carer")
MAX_DESTINATIONS = 5
# Relatives whose care is, by default, care of an older person.
OLDER_RELATIVES = {"grandparent", "parent_in_law"}

_RELATIONS = {k: compile_patterns(v) for k, v in lx.RELATIONS.items()}
_CONDITIONS = {k: compile_patterns(v) for k, v in lx.CONDITIONS.items()}
_NEEDS = {k: compile_patterns(v) for k, v in lx.NEEDS.items()}
_NAMED = {k: compile_patterns(v) for k, v in lx.NAMED_DESTINATIONS.items()}
_CARE = compile_patterns(lx.CARE_WORDS)
_RECEIVING = compile_patterns(lx.RECEIVING_CARE)
_EMPLOYER = compile_patterns(lx.EMPLOYER)
_EMPLOYER_INTRO = compile_patterns(lx.EMPLOYER_INTRO)
_SUPPORTER = compile_patterns(lx.SUPPORTER)
_SUPPORTER_WEAK = compile_patterns(lx.SUPPORTER_WEAK)
_PARENTHESES = re.compile(r"[（(][^）)]{0,15}[）)]")
_SUPPORTER_INTRO = compile_patterns(lx.SUPPORTER_INTRO)
_SUPPORTER_INTRO_RE = re.compile("|".join(f"(?:{p})" for p in lx.SUPPORTER_INTRO))
_SELF_CARE = compile_patterns(lx.SELF_CARE)
_NOT_CARING = compile_patterns(lx.NOT_CARING)
_NEED_WORK = compile_patterns(lx.NEEDS["work"])
_CHILD = compile_patterns(lx.CHILD_STAGE)
_CHILD_HINTS = compile_patterns(lx.CHILD_HINTS)
_YOUTH = compile_patterns(lx.YOUTH_STAGE)
_ADULT = compile_patterns(lx.ADULT_STAGE)
_WORKING = compile_patterns(lx.WORKING)
_NOT_WORKING = compile_patterns(lx.NOT_WORKING)
_SIDE_JOB = compile_patterns(lx.SIDE_JOB)
_EMERGENCY = compile_patterns(lx.EMERGENCY)
_CRISIS = compile_patterns(lx.CRISIS)
_HANDLED = compile_patterns(lx.HANDLED)
_DISTRESS = compile_patterns(lx.DISTRESS)
_NOT_CRISIS = re.compile("|".join(f"(?:{p})" for p in lx.NOT_CRISIS))
_STILL_WORKING = re.compile(r"(辞め|やめ|退職し)(よう|たい|るか|るべき|そう|ようか|なきゃ|ざるを得な|かけ|ることに|るしか)")

_KANJI_DIGITS = {"〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_AGE = re.compile(lx.NUM + r"\s*(歳|才|さい|代)")
_DECADE_WORD = re.compile(r"(二|三|四|五|六|七|八|九)十代")
# A short answer that is just an age: 「17です」「二十六」「29だべ」 (not 「2年」「3回」).
_BARE_NUMBER = re.compile(
    r"^\s*(?:私は|わたしは|僕は|ぼくは|今|いま)?(?:は)?\s*" + lx.NUM
    + r"(?!\s*(?:年|ねん|代|か月|ヶ月|ヵ月|人|回|時|日|分|級|度))\s*(?:歳|才|さい)?\s*(?:[^0-9]{0,6})$"
)
_LIST_NUMBER = re.compile(r"(?:^|[、,\s])([0-9]{2})(?:歳|才)?\s*(?:$|[、,。!！\s]|やけど|だけど|けど|です|で、)")
_SELF_AGE = re.compile(
    r"(?:私|わたし|わたくし|僕|ぼく|俺|おれ|自分|わしゃ|あたしゃ|おいら|わし|おら)(?:は|も|、|,)?\s*(?:今年|いま|今)?\s*"
    + lx.NUM
    + r"(?:歳|才|さい)?(?![0-9年代])"
)
_ENGLISH_AGE = re.compile(
    r"\bi'?m (?:a )?(\d{1,2})\b|\bi am (?:a )?(\d{1,2})\b|(\d{1,2})[- ]years?[- ]old|\bis (\d{1,2})\b|\bin (?:his|her|their|my) (\d)0s\b"
)
_ONO_AGE = re.compile(r"(\d{2})(?:歳|才)?の(?:者|もん|もの|(?:息子|娘|嫁|妻|夫|母|父|母親|父親|主婦|主夫|男|女)です)")
_LEADING_AGE = re.compile(r"^\s*([0-9]{2})\s*(?:歳|才|さい)?\s*(?:で|、|,|です|なん|だけど|やけど|けど|って)")
_COMMA_AGE = re.compile(r"[、,]\s*([0-9]{2})\s*(?:歳|才)?\s*[。．]")
_PAREN_AGE = re.compile(r"[（(]\s*([0-9]{1,2})\s*(?:歳|才)?\s*[)）]")
# Any word for a relative (from the lexicon), to tell their ages from the writer's.
_KIN = "(?:" + "|".join(p for pats in lx.RELATIONS.values() for p in pats if "\\b" not in p) + ")"
_RECEIVER_AGE = re.compile(
    _KIN
    + r"(?:さん|ちゃん|様)?(?:は|が|も)?(?:もう|今年|今|いま)?\s*"
    + r"(?P<a>[0-9]{2}|[一二三四五六七八九十]{2,3})(?:歳|才|代|さい)?(?:で|に|を|です|の|、|。|$)"
    r"|(?P<c>[0-9]{2})(?:歳|才)?(?:近|ちか|を?超|を?過|すぎ)[^。]{0,4}" + _KIN
    + r"|(?P<b>[0-9]{2}|[一二三四五六七八九十]{2,3})(?:歳|才|代)?の"
    + r"(?:お?母|お?父|祖母|祖父|ばあちゃん|じいちゃん|おばあ|おじい|主人|夫|妻|義母|義父|両親|親|男性|女性)(?!親?です)"
)
_GRADE = re.compile(r"(小|中|高)(?:学|校)?\s*([1-6一二三四五六])\s*(?:年)?")
_YEARS_WORKING = re.compile(r"(社会人|入社|しゃかいじん|にゅうしゃ)\s*([0-9一二三四五六七八九十]{1,3})\s*(年目|ねんめ)")
_RECEIVER_BEFORE = re.compile(
    "(?:" + _KIN + r"|子|家族|おばあさん|おじいさん)(さん|様|ちゃん)?(は|が|も|、|です[。、]?|[（(])?(今年|もう|今|いま)?\s*$"
)
_RECEIVER_AFTER = re.compile(
    r"^\s*(の(母|父|祖|ばあ|じい|おばあ|おじい|弟|妹|兄|姉|夫|妻|主人|旦那|息子|娘|義|両親|親|ママ|パパ|お母|お父|おかあ|おとう|家族)(?!親?です)|の子(を|の)|"
    r"になる(母|父|祖|親)|で(寝たきり|要介護|認知|障|病|入院))"
)


def kanji_number(text: str) -> Optional[int]:
    """Turn 15, 十五, 二十六 or 三十 into an int; None if it is not a number."""
    if not text:
        return None
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for ch in text:
        if ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch in _KANJI_DIGITS:
            current = current * 10 + _KANJI_DIGITS[ch]
        else:
            return None
    return total + current


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
class Assessment:
    """The four slots of the contract, plus the facts they come from."""

    carer_types: List[str]
    user_role: str
    handoff_destinations: List[str]
    crisis: bool
    facts: Facts

    @property
    def primary(self) -> Optional[str]:
        """Return the primary destination, or None."""
        return self.handoff_destinations[0] if self.handoff_destinations else None


def _stage_of_age(age: int) -> str:
    if age < 18:
        return "child"
    if age < 40:
        return "youth"
    return "adult"


def _carer_ages(reading: Reading, asked_age: bool) -> List[int]:
    """Ages in one message that belong to the carer (not to the person cared for)."""
    text = reading.surface
    bare = _BARE_NUMBER.match(text)
    if bare:
        value = kanji_number(bare.group(1))
        # A bare number is an age only as an answer, or when it is plausible.
        if value is not None and (asked_age or 6 <= value <= 99):
            return [value]
    ages = []
    for m in list(_SELF_AGE.finditer(text)) + list(_LEADING_AGE.finditer(text)) + list(_ONO_AGE.finditer(text)):
        value = kanji_number(m.group(1))
        if value is not None and 6 <= value <= 110:
            return [value]
    for m in _COMMA_AGE.finditer(text):
        if not _RECEIVER_BEFORE.search(text[max(0, m.start() - 12) : m.start() + 1]):
            return [int(m.group(1))]
    for m in _ENGLISH_AGE.finditer(text):
        value = int(next(g for g in m.groups() if g))
        return [value * 10 if m.group(5) else value]
    for m in _PAREN_AGE.finditer(text):
        before = text[max(0, m.start() - 12) : m.start()]
        if not _RECEIVER_BEFORE.search(before) or re.search(r"(さん|様)$", before):
            ages.append(int(m.group(1)))
    if len(text) <= 24:
        for m in _LIST_NUMBER.finditer(text):
            if not _RECEIVER_BEFORE.search(text[max(0, m.start() - 12) : m.start() + 1]) and 10 <= int(m.group(1)) <= 99:
                ages.append(int(m.group(1)))
    for m in _AGE.finditer(text):
        value = kanji_number(m.group(1))
        if value is None or (value < 7 and m.group(2) != "代"):
            continue  # 「2歳の子育て」: a small child is not the one writing
        if m.group(2) == "代" and value < 10:
            value *= 10
        before, after = text[max(0, m.start() - 12) : m.start()], text[m.end() : m.end() + 6]
        if _RECEIVER_BEFORE.search(before) or _RECEIVER_AFTER.match(after):
            continue
        ages.append(value)
    for m in _DECADE_WORD.finditer(text):
        before, after = text[max(0, m.start() - 12) : m.start()], text[m.end() : m.end() + 6]
        if _RECEIVER_BEFORE.search(before) or _RECEIVER_AFTER.match(after):
            continue
        ages.append(kanji_number(m.group(1)) * 10)
    return ages


def _grade_stage(reading: Reading) -> Optional[str]:
    """Return child/youth/adult from school grades and life stages in one message."""
    text = reading.surface
    for m in _GRADE.finditer(text):
        before, after = text[max(0, m.start() - 12) : m.start()], text[m.end() : m.end() + 6]
        if _RECEIVER_BEFORE.search(before) or _RECEIVER_AFTER.match(after):
            continue
        return "child"
    years_working = _YEARS_WORKING.search(text) or _YEARS_WORKING.search(reading.hira)
    if years_working:
        years = kanji_number(years_working.group(2)) or 1
        return "youth" if years <= 15 else "adult"
    if any_match(_ADULT, reading):
        return "adult"
    if any_match(_YOUTH, reading):
        return "youth"
    if any_match(_CHILD, reading) and not _child_words_about_others(reading) and not _NOT_A_STUDENT.search(reading.surface):
        return "child"
    return None


_SCHOOL_OF_OTHERS = re.compile(
    r"(弟|妹|息子|娘|子ども|子供|こども|孫|うちの子|長男|長女|次男|次女)(は|が|の|も)?[^。、]{0,4}"
    r"(小学|中学|高校|学校|支援学校|がっこう|小[1-6]|中[1-3]|高[1-3]|クラス|担任|給食|宿題)"
    r"|(小学|中学|高校|支援学校)(生|校)?([1-6一二三四五六]年)?(生)?の(弟|妹|息子|娘|子|孫|長男|長女|次男|次女)"
    r"|[小中高][1-6一二三四五六](年生?)?の(弟|妹|息子|娘|子|孫|長男|長女|次男|次女)"
)
_STUDENT = re.compile(r"大学|だいがく|専門学校|せんもんがっこう|短大|学生|がくせい|高校|中学|小学|浪人|院生|予備校|宅浪|ねんせい|年生")
_NOT_A_STUDENT = re.compile(
    r"(中学|高校)(を)?(出て|卒業|中退|やめ|辞め)|(弟|妹|息子|娘|子|孫)(は|が|の)?(大学|高校|中学|小学)"
    r"|(小学校|中学校|高校|学校|大学)(で|の)(先生|教員|教師|教諭|担任|講師|働|勤|事務|校長|教頭|養護)|(教員|教師|教諭|先生|校長|教頭)(です|をして)"
)
_STRONG_CARE = re.compile(r"介護|かいご|看病|介助|ケアラー|面倒")
_INTERPRETING = re.compile(r"通訳|つうやく|代わりに|かわりに")


def _child_words_about_others(reading: Reading) -> bool:
    # 「弟が小学生で」「娘の学校」: school words about the person cared for, not the writer.
    return bool(_SCHOOL_OF_OTHERS.search(reading.surface))


def _is_childlike(text: str) -> bool:
    """Guess whether a child wrote this: mostly hiragana, little kanji."""
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 12:  # too short to tell (「言いたくない」)
        return False
    hira = sum(1 for c in letters if "\u3041" <= c <= "\u309f")
    kanji = sum(1 for c in letters if "\u4e00" <= c <= "\u9fff")
    return hira / len(letters) > 0.8 and kanji <= 2


_THIRD_SUBJECT = re.compile(
    "(?:" + "|".join(p for pats in lx.RELATIONS.values() for p in pats) + r"|彼女|彼|友達|友人|その子)(?:さん|ちゃん)?(は|が|も)"
)
_SELF_SUBJECT = re.compile(r"(私|わたし|あたし|僕|ぼく|俺|おれ|オレ|自分|うち|わし)(は|が|も|の)|^")


def _about_someone_else(text: str, start: int) -> bool:
    """Return True when the clause before ``start`` has a third person as its subject."""
    clause_start = max(text.rfind("。", 0, start), text.rfind("\n", 0, start), start - 25, -1) + 1
    clause = text[clause_start:start]
    # A topic (は) reaches over commas; a subject (が/も) ends at the next comma.
    third = [m.end() for m in _THIRD_SUBJECT.finditer(clause) if m.group(1) == "は" or "、" not in clause[m.end():]]
    selfs = [m.end() for m in _SELF_SUBJECT.finditer(clause) if m.end() > 0]
    return bool(third) and (not selfs or third[-1] > selfs[-1])


def _matches_about_self(patterns, r: Reading) -> bool:
    """Return True when a pattern matches the surface about the writer (or any reading match)."""
    hits = [(form, m) for p in patterns for form, m in p.finditer(r)]
    surface_hits = [m for form, m in hits if form == "surface"]
    if surface_hits:
        # Decided on what was written; the other forms only help when the surface has no hit.
        return any(not _about_someone_else(r.surface, m.start()) for m in surface_hits)
    return bool(hits)


def _without_exaggerations(r: Reading) -> Reading:
    """The reading with exaggerations (死ぬほど) and denials (死にたいとかではない) blanked out."""
    cleaned = _NOT_CRISIS.sub("　", r.surface)
    return Reading.of(cleaned) if cleaned != r.surface else r


def _danger(r: Reading) -> Tuple[bool, bool]:
    """(danger sign, medical emergency), after removing exaggerations and denials."""
    r = _without_exaggerations(r)
    emergency = any_match(_EMERGENCY, r) and not any_match(_HANDLED, r)
    return emergency or any_match(_CRISIS, r), emergency


def _receiver_ages(r: Reading) -> List[int]:
    ages = []
    for m in _AGE.finditer(r.surface):
        before = r.surface[max(0, m.start() - 12) : m.start()]
        value = kanji_number(m.group(1))
        if value and m.group(2) != "代" and _RECEIVER_BEFORE.search(before):
            ages.append(value)
    for m in _PAREN_AGE.finditer(r.surface):
        if _RECEIVER_BEFORE.search(r.surface[max(0, m.start() - 12) : m.start()]):
            ages.append(int(m.group(1)))
    for m in _RECEIVER_AGE.finditer(r.surface):
        value = kanji_number(m.group("a") or m.group("b") or m.group("c") or "")
        if value:
            ages.append(value)
    return ages


_DECLINE = re.compile(
    r"(言|い)いたくな|(言|い)いづら|答えたくな|こたえたくな|ひみつ|秘密|内緒|ないしょ|パス$|ノーコメント|ちょっと(言|い)い"
)
# A supporter writing about a pupil or a neighbour's child: the carer is a child.
_CHILD_DESCRIBED = re.compile(
    r"((クラス|学年|部活|学校)の(子|生徒)|生徒|児童|園児|(男|女)の子|小学生|中学生|高校生|教え子|部員|[1-6一二三四五六]年生"
    r"|担任して(いる|る)子|受け持ちの子|[小中高][1-6一二三四五六]の子)"
    r"(?!(さん)?の(お?母|お?父|親|保護者|家族|ママ|パパ))"
)
# Plain kinship words (父が, 息子の) speak of one's own family; お母さん, 娘さん, 奥様 may be a client's.
_SELF_REFERENCE = re.compile(
    r"(私|わたし|僕|ぼく|俺|おれ|自分|うち|わし)の(母|父|親|両親|祖|夫|妻|息子|娘|子|弟|妹|兄|姉|家族)|\bmy\b"
    r"|(?<![おご])(父|母|夫|妻|息子|娘|祖母|祖父|義母|義父|弟|妹|兄|姉|主人|両親)(?!さん|様|さま|親)(が|は|の|に|を|も|と|、)"
)
_CARING_VERBS = re.compile(r"介護|かいご|看病|かんびょう|介助|世話|せわ|面倒|めんどう|ケア(を|し)|看て|take care|taking care|looking after")
_NEGATED_CONDITION = re.compile(r"(病気|障害|障がい|びょうき)(とか|など|なんか)?(は|も)?(なく|ない|ありません|ないです)")


_STRONG_CONDITIONS = [p for name in ("dementia", "elderly", "disability", "mental", "addiction", "illness") for p in _CONDITIONS[name]]
_RELATION_PATTERNS = [p for pats in _RELATIONS.values() for p in pats]


def _receiver_has_condition(r: Reading) -> bool:
    """Return True when a relative is named shortly before a condition in one sentence."""
    rel = [m.start() for p in _RELATION_PATTERNS for m in p.regex.finditer(r.surface)]
    if not rel:
        return False
    for p in _STRONG_CONDITIONS:
        for m in p.regex.finditer(r.surface):
            if any(0 <= m.start() - s <= 25 and "。" not in r.surface[s : m.start()] for s in rel):
                return True
    return False


_FIRST_PERSON = re.compile(r"私|わたし|あたし|僕|ぼく|俺|おれ|自分|わし|おら|うち(?!の)|\bi\b|\bi'm\b")


def _about_the_cared_for(r: Reading) -> bool:
    """Return True for a message about the person cared for, with no word for the writer."""
    if _FIRST_PERSON.search(r.surface):
        return False
    return any_match(_STRONG_CONDITIONS, r) or any(any_match(p, r) for p in _RELATIONS.values())


@dataclass(frozen=True)
class MessageFacts:
    """What one message says on its own. Cached: a conversation's old messages are read once."""

    crisis: bool
    emergency: bool
    distress: bool
    relations: FrozenSet[str]
    conditions: FrozenSet[str]
    needs: FrozenSet[str]
    named: Tuple[str, ...]
    older_receiver: bool
    care_words: bool
    not_caring: bool
    receiving: bool
    receiver_condition: bool
    self_ref: bool
    employer: bool
    boss: bool
    supporter: bool
    mention: bool
    intro: bool
    self_care: bool
    declined: bool
    ages: Tuple[int, ...]
    about_cared_for: bool
    stage: Optional[str]
    child_hint: bool
    student: bool
    working: Any  # True, False, "side_job" or None
    working_anyone: Any
    childlike: bool
    everything: str


@functools.lru_cache(maxsize=4096)
def read_message(text: str, asked_age: bool = False) -> MessageFacts:
    """Read one message (see read_facts); ``asked_age``: it answers the bot's age question."""
    r = Reading.of(text)
    conditions_read = Reading.of(_NEGATED_CONDITION.sub("\u3000", r.surface)) if _NEGATED_CONDITION.search(r.surface) else r
    # 「孫（中学生）が」: role words are also read with short asides removed.
    roles = [r, Reading.of(_PARENTHESES.sub("", r.raw))] if _PARENTHESES.search(r.raw) else [r]
    intro = any_match(_SUPPORTER_INTRO, r)
    declined = bool(_DECLINE.search(r.surface))
    crisis, emergency = _danger(r)
    return MessageFacts(
        crisis=crisis,
        emergency=emergency,
        distress=any_match(_DISTRESS, r),
        relations=frozenset(name for name, pats in _RELATIONS.items() if any_match(pats, r)),
        conditions=frozenset(name for name, pats in _CONDITIONS.items() if any_match(pats, conditions_read)),
        needs=frozenset(name for name, pats in _NEEDS.items() if any_match(pats, r)),
        named=tuple(d for d, pats in _NAMED.items() if any_match(pats, r)),
        older_receiver=any(age >= 65 for age in _receiver_ages(r)),
        care_words=any_match(_CARE, r),
        not_caring=any_match(_NOT_CARING, r),
        receiving=any_match(_RECEIVING, r),
        receiver_condition=_receiver_has_condition(r),
        self_ref=bool(_SELF_REFERENCE.search(r.surface)),
        employer=any(any_match(_EMPLOYER, x) for x in roles),
        boss=any(any_match(_EMPLOYER_INTRO, x) for x in roles),
        supporter=any(any_match(_SUPPORTER, x) for x in roles),
        mention=any(any_match(_SUPPORTER_WEAK, x) for x in roles),
        intro=intro,
        self_care=any_match(_SELF_CARE, r),
        declined=declined,
        ages=tuple(_carer_ages(r, asked_age=asked_age)),
        about_cared_for=_about_the_cared_for(r),
        stage=_grade_stage(r),
        child_hint=any_match(_CHILD_HINTS, r) and not _child_words_about_others(r) and not _NOT_A_STUDENT.search(r.surface),
        student=bool(_STUDENT.search(r.surface + " " + r.kana) and not _NOT_A_STUDENT.search(r.surface)),
        working=None if declined else _working(r),
        # 「保育士をしています」: a supporter's own job says nothing of the carer's.
        # For a supporter, the work of the person described counts, whoever is the subject.
        working_anyone=_working(Reading.of(_SUPPORTER_INTRO_RE.sub("\u3000", r.surface)) if intro else r, anyone=True),
        childlike=_is_childlike(r.raw),
        everything=r.surface + " " + r.kana,
    )


def read_facts(messages: Sequence[str], asked: Iterable[str] = ()) -> Facts:
    """Read the facts from the user's messages, oldest first.

    Args:
        messages: the user's texts of this conversation.
        asked: names of questions the bot asked before each answer (e.g. "age").
    """
    asked = set(asked)
    facts = Facts()
    texts = [m for m in messages if m and m.strip()]
    employer = boss = supporter = mention = intro = care_words = not_caring = self_care = receiver_condition = self_ref = False
    job = side_job = job_without_intro = None
    parts = []
    for i, text in enumerate(texts):
        m = read_message(text, asked_age=i == len(texts) - 1 and "age" in asked)
        parts.append(m.everything)
        facts.crisis = facts.crisis or m.crisis
        facts.emergency = facts.emergency or m.emergency
        facts.distress = facts.distress or m.distress
        facts.relations |= m.relations
        facts.conditions |= m.conditions
        facts.needs |= m.needs
        facts.named += [d for d in m.named if d not in facts.named]
        if m.older_receiver:
            facts.conditions.add("elderly")
        care_words = care_words or m.care_words
        not_caring = not_caring or m.not_caring
        facts.receiving_care = facts.receiving_care or m.receiving
        receiver_condition = receiver_condition or m.receiver_condition
        self_ref = self_ref or m.self_ref
        employer, boss = employer or m.employer, boss or m.boss
        supporter, mention = supporter or m.supporter, mention or m.mention
        intro = intro or m.intro
        self_care = self_care or m.self_care
        facts.declined = facts.declined or m.declined
        ages = list(m.ages)
        if ages and facts.carer_age is not None and m.about_cared_for:
            ages = []  # 「パーキンソン病です。まだ50代で」 after the writer gave her age: the mother's age
        if ages:
            facts.carer_age = ages[-1]
            facts.stage = _stage_of_age(ages[-1])
        elif m.stage and (facts.stage is None or facts.carer_age is None):
            facts.stage = m.stage
        elif m.child_hint and facts.stage is None:
            facts.stage = "child"
        facts.student = facts.student or m.student
        if m.working is not None:
            job, side_job = (m.working, side_job) if m.working != "side_job" else (job, True)
        if m.working_anyone is not None and m.working_anyone != "side_job":
            job_without_intro = m.working_anyone
        facts.childlike = facts.childlike or m.childlike
    strong = facts.conditions - {"foreign", "weak_illness", "development"}
    receivers = facts.relations
    someone = bool(receivers) or employer or supporter or boss
    everything = " ".join(parts)
    if not_caring:  # 「家族の介護とかはしていません」 is said plainly: believe it
        facts.care = False
    elif facts.receiving_care and not receiver_condition:
        facts.care = False
    elif not someone and not _CARING_VERBS.search(everything):
        facts.care = False  # 「車いすで一人暮らし」: one's own needs, nobody cared for
    elif strong and someone:
        facts.care = True
    elif care_words and (someone or strong or _STRONG_CARE.search(everything)):
        facts.care = True
    elif "foreign" in facts.conditions and _INTERPRETING.search(everything):
        facts.care = True
    if receivers <= {"child", "spouse"} and "child" in receivers and not strong and not employer and not supporter:
        if "development" not in facts.conditions or not care_words:
            facts.care = False  # parenting a healthy child, or a first worry about development
    if (facts.carer_age or 0) >= 70 and receivers & {"spouse", "sibling", "parent", "mother", "father"}:
        facts.conditions.add("elderly")  # 老老介護: both are older
    facts.professional = intro or boss
    own_family = self_ref or self_care
    facts.role = _role(
        facts,
        employer=employer or (boss and not own_family),
        supporter=(supporter and not self_care) or ((mention or intro) and not own_family),
    )
    if facts.role in ("supporter", "employer") and facts.stage is None and _CHILD_DESCRIBED.search(everything):
        facts.stage = "child"
    facts.student = facts.student or facts.stage == "child"
    if facts.role == "supporter":
        job = job_without_intro
    # A side job counts as work only for someone who is not a student.
    facts.working = job if job is not None else (True if side_job and not facts.student else None)
    return facts


def _working(r: Reading, anyone: bool = False):
    """Return True/False for work or not, "side_job" for a part-time student job, or None."""
    text = r.surface + " " + r.kana
    about = (lambda pats, rd: any_match(pats, rd)) if anyone else _matches_about_self
    if about(_NOT_WORKING, r) and not _STILL_WORKING.search(text):
        return False
    if any_match(_NEED_WORK, r) and not re.search(r"会社員|正社員|勤めて|働いて(い|る|ま)", r.surface):
        return None  # 「働きたい」「仕事を探している」: wanting work is not working
    if about(_WORKING, r):
        return True
    if about(_SIDE_JOB, r):
        return "side_job"
    return None


def _role(facts: Facts, employer: bool, supporter: bool) -> str:
    if employer and facts.care:
        return "employer"
    if facts.care and supporter:
        return "supporter"
    if facts.care:
        return "carer"
    return "other"


def carer_types(facts: Facts) -> List[str]:
    """Return the kinds of carer the person being discussed is, in a fixed order."""
    if not facts.care:
        return []
    types: Set[str] = set()
    if facts.stage == "child":
        types.add("young_carer")
    elif facts.stage == "youth":
        types.add("youth_carer")
    # An employee is a working carer, unless a school pupil with a side job.
    if facts.role == "employer":
        if not facts.student:  # an employee, unless a pupil with a side job
            types.add("business_carer")
    elif facts.working and not (facts.role == "supporter" and facts.student):
        types.add("business_carer")
    if facts.role == "employer" and not types:
        types.add("business_carer")
    if not types:
        types.add("carer")
    return [t for t in CARER_TYPE_ORDER if t in types]


def _need_section(facts: Facts) -> Optional[str]:
    c = facts.conditions
    if "dementia" in c:
        return "koreisha_ikiiki"
    if "development" in c and "child" in facts.relations:
        return "hattatsu_shien"  # a small child's development (療育, 言葉の遅れ), diagnosis or not
    if "disability" in c:
        return "shogai_fukushi"
    if "elderly" in c or facts.relations & OLDER_RELATIVES:
        return "koreisha_ikiiki"
    if "development" in c:
        return "hattatsu_shien"
    return None


def destinations(facts: Facts, types: List[str]) -> List[str]:
    """Return the hand-off destinations, primary first, by the city's policy."""
    out: List[str] = []

    def add(*ids: str) -> None:
        for i in ids:
            if i not in out:
                out.append(i)

    c, n = facts.conditions, facts.needs
    young, youth = "young_carer" in types, "youth_carer" in types
    if facts.role == "employer":
        add("shoko")
    elif types:
        add("kodomo_katei_soudan" if young else (_need_section(facts) or "fukushi_somu"))
    else:  # other: the place they asked about, by topic, or none
        add(*facts.named)
        if "disability_service" in n or "disability" in c:
            add("shogai_fukushi")
        elif "kaigo_hoken" in n or "dementia" in c:
            add("kaigo_hoken" if "kaigo_hoken" in n else "koreisha_ikiiki", "koreisha_ikiiki")
        elif "elderly" in c or (facts.carer_age or 0) >= 65:
            add("koreisha_ikiiki")
        elif "money" in n or "food" in n:
            add("seikatsu_fukushi")
        elif "development" in c:
            add("hattatsu_shien")
        elif "parenting" in n:
            add("kosodate_center", "wakuwaku_hiroba")
        return out[:MAX_DESTINATIONS]
    if not types:
        return out
    if "dementia" in c or "elderly" in c or facts.relations & OLDER_RELATIVES:
        add("koreisha_ikiiki")
        if "kaigo_hoken" in n:
            add("kaigo_hoken")
    if "disability" in c:
        add("shogai_fukushi")
        if young and "sibling" in facts.relations:
            add("siblings_place")
    if "development" in c:
        add("hattatsu_shien")
    if "money" in n or "food" in n:
        add("seikatsu_fukushi")
    if young or youth:
        if n & {"place", "peers", "eat"}:
            add("youth_hall")
        if "eat" in n or "food" in n and young:
            add("mintabe")
    elif "peers" in n:
        add("peer_groups", "houkatsu" if "koreisha_ikiiki" in out else "peer_groups")
    if youth and "work" in n and facts.working is not True:
        add("shoko")
    if "parenting" in n:
        add("kosodate_center")
    add(*facts.named)
    return out[:MAX_DESTINATIONS]


def assess(messages: Sequence[str], asked: Iterable[str] = ()) -> Assessment:
    """Assess a conversation from the user's messages (oldest first).

    Args:
        messages: the user's texts.
        asked: questions the bot has asked so far (``age``, ``work``, ``who``).
    """
    facts = read_facts(messages, asked)
    if facts.crisis:
        facts.danger_reader = "lexicon"
    elif facts.role != "employer":
        from bot.triage import danger_model  # spaCy and scikit-learn, loaded by the action server at start

        level = danger_model.level(messages)
        # Above the high threshold the learned reader raises the flag itself; between the two
        # thresholds the bot asks once, plainly (bot.dialogue).
        facts.crisis = level == "crisis"
        facts.danger_reader = "model" if facts.crisis else ""
        facts.possible_danger = level == "ask"
    types = carer_types(facts)
    return Assessment(
        carer_types=types,
        user_role=facts.role,
        handoff_destinations=destinations(facts, types),
        crisis=facts.crisis,
        facts=facts,
    )


def danger_evidence(messages: Sequence[str], reader: str = "") -> Dict[str, object]:
    """Why a flagged conversation was flagged, for staff: the message (0-based user turn) and the words or score.

    The lexicon names the words it matched in the first message that has a danger sign; the
    learned reader gives the message after which the conversation first reached its high
    threshold, and its probability then. With no ``reader`` (the flag was raised on an earlier
    turn) both are tried in that order; if neither reads it, the person answered 「はい」 to the
    safety check ("answer").
    """
    texts = [m for m in messages if m and m.strip()]
    if reader in ("lexicon", ""):
        for i, text in enumerate(texts):
            words = danger_words(text)
            if words:
                return {"reader": "lexicon", "turn": i, "words": "・".join(words), "score": None}
    if reader in ("model", "") and texts:
        from bot.triage import danger_model

        high = danger_model.reader().high
        for i in range(len(texts)):
            p = danger_model.score(texts[: i + 1])
            if p >= high:
                return {"reader": "model", "turn": i, "words": "", "score": round(p, 3)}
    return {"reader": "answer", "turn": max(len(texts) - 1, 0), "words": "", "score": None}


def danger_words(text: str) -> List[str]:
    """The words of one message that match a danger sign (after exaggerations and denials are removed)."""
    r = _without_exaggerations(Reading.of(text))
    found: List[str] = []
    for pattern in (*_EMERGENCY, *_CRISIS):
        for _, hit in pattern.finditer(r):
            if hit.group(0) not in found:
                found.append(hit.group(0))
            break
    return found[:5]
