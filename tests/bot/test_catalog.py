"""The catalog (data/catalog.yml) is complete and invents no contact details."""

import re

from bot import catalog

DESTINATION_IDS = {
    "fukushi_somu", "kodomo_katei_soudan", "shimin_kenko", "shoko", "shogai_fukushi", "hattatsu_shien",
    "koreisha_ikiiki", "kaigo_hoken", "kodomo_shien", "seishonen", "hoiku", "seikatsu_fukushi",
    "kyoiku_center", "chiiki_kyosei", "youth_hall", "mintabe", "siblings_place", "kosodate_center",
    "wakuwaku_hiroba", "family_support", "houkatsu", "peer_groups",
}


def test_every_measure_of_goal_6_is_there():
    ids = [m["id"] for m in catalog.load()["measures"]]
    assert len(ids) == 31 == len(set(ids))
    assert ids[0] == "6-1-1-1" and ids[-1] == "6-3-6-7"
    assert all(re.fullmatch(r"6-[1-3]-[1-6]-\d{1,2}", i) for i in ids)


def test_every_destination_of_the_contract_exists_and_cross_references_resolve():
    data = catalog.load()
    dests = data["destinations"]
    assert DESTINATION_IDS <= set(dests)
    measure_ids = {m["id"] for m in data["measures"]}
    for m in data["measures"]:
        assert m["title"] and m["detail"] and m["sections"]
        assert set(m["sections"]) <= set(dests)
    for dest_id, d in dests.items():
        assert d["kind"] in ("section", "space"), dest_id
        assert set(d["measures"]) <= measure_ids, dest_id
        assert d["what"] and d["what_easy"], dest_id
        if d["kind"] == "space":
            assert d["in_charge"] in dests, dest_id


def test_no_invented_contact_details():
    for dest_id, d in catalog.load()["destinations"].items():
        assert set(d["contact"]) == {"phone", "hours", "address", "url"}
        text = d["what"] + d["what_easy"]
        assert not re.search(r"\d{2,4}-\d{2,4}-\d{3,4}|\d+時", text), dest_id


def test_crisis_lines_have_a_public_source():
    lines = catalog.load()["crisis_lines"]
    assert {"0120-0-78310", "110", "119"} <= {line["phone"] for line in lines}
    assert all(line["source"].startswith("https://") for line in lines)
    assert catalog.crisis_lines(child=True)[0]["audience"] == "child"
    assert all(line["audience"] != "child" for line in catalog.crisis_lines(child=False))
