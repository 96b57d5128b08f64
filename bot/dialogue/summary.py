"""The short summary of a case that the section's staff read first."""

from __future__ import annotations

from bot.triage import Assessment

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
        "disability_service": "障害福祉サービス", "rest": "休息", "study": "学業", "transport": "移動・送迎",
        "wheelchair": "車いす", "child_minding": "子どもの預かり", "work_ready": "就労準備", "helping": "支える側に",
        "school_staff": "学校の教職員", "training": "研修・啓発", "many_problems": "複合的な課題",
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
