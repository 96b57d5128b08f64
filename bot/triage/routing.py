"""From the facts to the contract's slots: the kinds of carer, and where to hand the person off, by the city's policy."""

from __future__ import annotations

from typing import List, Optional, Set

from bot.triage.combine import Facts

CARER_TYPE_ORDER = ("young_carer", "youth_carer", "business_carer", "carer")
MAX_DESTINATIONS = 5
# Relatives whose care is, by default, care of an older person.
OLDER_RELATIVES = {"grandparent", "parent_in_law"}


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


def _add(out: List[str], *ids: str) -> None:
    """Append the destinations not yet in ``out``: the first place a destination is named sets its rank."""
    for i in ids:
        if i not in out:
            out.append(i)


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


# Routes of the plan reached by what a person asks for (issue 14), in the order they are added.
ROUTES = {
    "transport": ("shogai_fukushi",),       # 6-3-6-7 福祉有償運送
    "wheelchair": ("shogai_fukushi",),      # 6-3-6-5 車いすの貸出
    "child_minding": ("family_support",),   # 6-3-5-5 ファミリーサポート
    "work_ready": ("seikatsu_fukushi",),    # 6-3-5-6 就労準備
    "helping": ("chiiki_kyosei", "fukushi_somu"),  # 6-3-5-1 鎌倉共生サポーター
    "school_staff": ("kyoiku_center",),     # 6-3-3-1 教職員の研修
    "training": ("fukushi_somu",),          # 6-1-1-2, 6-3-1-1 理解の促進・研修
    "many_problems": ("fukushi_somu",),     # 6-2-1-1, 6-3-2-1 複合的な課題
}


def _routes(out: List[str], facts: Facts) -> None:
    for need, ids in ROUTES.items():
        if need in facts.needs:
            _add(out, *ids)


def _for_others(facts: Facts) -> List[str]:
    """Someone who cares for nobody: the place they asked about, by topic, or none."""
    out: List[str] = []
    c, n = facts.conditions, facts.needs
    _add(out, *facts.named)
    if n & {"helping", "school_staff", "training"}:
        _routes(out, facts)  # someone who wants to help, or to learn to notice carers
    if "disability_service" in n or "disability" in c:
        _add(out, "shogai_fukushi")
    elif "kaigo_hoken" in n or "dementia" in c:
        _add(out, "kaigo_hoken" if "kaigo_hoken" in n else "koreisha_ikiiki", "koreisha_ikiiki")
    elif "elderly" in c or (facts.carer_age or 0) >= 65:
        _add(out, "koreisha_ikiiki")
    elif "money" in n or "food" in n:
        _add(out, "seikatsu_fukushi")
    elif "development" in c:
        _add(out, "hattatsu_shien")
    elif "parenting" in n:
        _add(out, "kosodate_center", "wakuwaku_hiroba")
    return out[:MAX_DESTINATIONS]


def _by_condition(out: List[str], facts: Facts, young: bool) -> None:
    """The sections for the cared-for person's condition, and money."""
    c, n = facts.conditions, facts.needs
    if "dementia" in c or "elderly" in c or facts.relations & OLDER_RELATIVES:
        _add(out, "koreisha_ikiiki")
        if "kaigo_hoken" in n:
            _add(out, "kaigo_hoken")
    if "disability" in c:
        _add(out, "shogai_fukushi")
        if young and "sibling" in facts.relations:
            _add(out, "siblings_place")
    if "development" in c:
        _add(out, "hattatsu_shien")
    if "money" in n or "food" in n:
        _add(out, "seikatsu_fukushi")


def _by_need(out: List[str], facts: Facts, young: bool, youth: bool) -> None:
    """Places for a young carer's own needs (a place, peers, a meal), peers for others, work, parenting."""
    n = facts.needs
    if young or youth:
        if n & {"place", "peers", "eat"}:
            _add(out, "youth_hall")
        if "eat" in n or "food" in n and young:
            _add(out, "mintabe")
    elif "peers" in n:
        _add(out, "peer_groups", "houkatsu" if "koreisha_ikiiki" in out else "peer_groups")
    if youth and "work" in n and facts.working is not True:
        _add(out, "shoko")
    if "parenting" in n:
        _add(out, "kosodate_center")


def destinations(facts: Facts, types: List[str]) -> List[str]:
    """Return the hand-off destinations, primary first, by the city's policy."""
    if facts.role != "employer" and not types:
        return _for_others(facts)
    young, youth = "young_carer" in types, "youth_carer" in types
    out: List[str] = []
    if facts.role == "employer":
        _add(out, "shoko")
    else:
        _add(out, "kodomo_katei_soudan" if young else (_need_section(facts) or "fukushi_somu"))
    if not types:
        return out
    _by_condition(out, facts, young)
    _by_need(out, facts, young, youth)
    _add(out, *facts.named)
    _routes(out, facts)
    return out[:MAX_DESTINATIONS]
