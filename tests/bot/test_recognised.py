"""People the triage did not recognise before issue 14 (sentences written for this test, not the blind set's)."""

import pytest

from bot import triage


@pytest.mark.parametrize("text, types, role, primary", [
    ("共働きで、認知症の義母の介護をしています。40代です", ["business_carer"], "carer", "koreisha_ikiiki"),
    ("勤め人です。母が認知症で、週末は実家に通っています。50代", ["business_carer"], "carer", "koreisha_ikiiki"),
    ("在宅勤務をしながら、障害のある兄の世話をしています。35歳です", ["youth_carer", "business_carer"], "carer", "shogai_fukushi"),
    ("おとうさんがお酒を飲むと暴れて、弟をなぐろうとするから私がかばってる。中1です", ["young_carer"], "carer", "kodomo_katei_soudan"),
    ("飲食店のオーナーです。パートさんがお母さんの介護でシフトに入れない日が多い。店としてできることは？", ["business_carer"], "employer", "shoko"),
])
def test_they_are_recognised(text, types, role, primary):
    a = triage.assess([text])
    assert (a.carer_types, a.user_role, a.handoff_destinations[0]) == (types, role, primary)


def test_a_child_shielding_a_sibling_from_a_violent_parent_is_in_danger_and_a_young_carer():
    a = triage.assess(["おとうさんがお酒を飲むと暴れて、弟をなぐろうとするから私がかばってる。中1です"])
    assert a.crisis and "young_carer" in a.carer_types
    assert triage.danger_kind(["おとうさんがお酒を飲むと暴れて、弟をなぐろうとするから私がかばってる。中1です"], True) == "harm_to_child"


@pytest.mark.parametrize("text, route", [
    ("父が車いすなんですが、車いすを借りられるところはありますか。母の介護もしています", "shogai_fukushi"),
    ("障害のある妹の通院の送迎が大変です。福祉有償運送って使えますか", "shogai_fukushi"),
    ("小学校の担任をしています。クラスにヤングケアラーがいるかもしれず、気づき方を学びたい", "kyoiku_center"),
    ("ケアラーの人を支えたいです。ボランティアできますか", "chiiki_kyosei"),
    ("介護と子育てのダブルケアで、いろいろな問題が重なっています。40代です", "fukushi_somu"),
    ("母の介護をしています。下の子を少しの間あずけられるところはありますか", "family_support"),
])
def test_every_route_of_the_plan_can_be_reached(text, route):
    from bot.triage import routing

    facts = triage.read_facts([text])
    assert route in routing.destinations(facts, routing.carer_types(facts))
