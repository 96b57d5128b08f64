"""A case's sections as rows of handoff_destinations (revision 0002): order, visibility, deletion.

The Store's answers are what they were with the comma-joined column: ``destinations`` is a list,
primary first; a section sees the cases that go to it; nothing of a deleted case stays behind.
"""

import datetime as dt

import pytest
import sqlalchemy as sa

from bot.handoff.store import Handoff, HandoffDestination, Staff, Store, now

ADMIN = Staff("admin", "fukushi_somu", True)
SHOKO = Staff("shoko1", "shoko")
IKIIKI = Staff("ikiiki1", "koreisha_ikiiki")


@pytest.fixture
def store(tmp_path):
    return Store(f"sqlite:///{tmp_path}/handoff.db")


def _rows(store):
    with store.engine.connect() as c:
        return c.execute(sa.text("SELECT handoff_id, position, section FROM handoff_destinations "
                                 "ORDER BY handoff_id, position")).fetchall()


def test_the_order_is_kept_through_updates_and_transfers(store):
    case = store.create_handoff("conv-1", [], "carer", ["shoko", "koreisha_ikiiki"], False, "")
    assert case["destinations"] == ["shoko", "koreisha_ikiiki"]
    assert store.update_from_conversation(case["ref"], "conv-1", [], "carer", ["koreisha_ikiiki", "kodomo_katei_soudan"],
                                          False, "")
    assert store.get(ADMIN, case["ref"])["destinations"] == ["shoko", "koreisha_ikiiki", "kodomo_katei_soudan"]
    assert store.transfer(SHOKO, case["ref"], "kodomo_katei_soudan", "子どもの相談")  # becomes the primary
    assert store.get(ADMIN, case["ref"])["destinations"] == ["kodomo_katei_soudan", "shoko", "koreisha_ikiiki"]
    assert store.transfer(SHOKO, case["ref"], "shogai_fukushi", "障害の相談")  # a new one, in front
    assert store.get(ADMIN, case["ref"])["destinations"] == ["shogai_fukushi", "kodomo_katei_soudan", "shoko",
                                                            "koreisha_ikiiki"]
    assert [r.position for r in _rows(store)] == [0, 1, 2, 3]
    assert store.handoff_for_conversation("conv-1")["destinations"][0] == "shogai_fukushi"


def test_a_section_sees_and_filters_by_its_rows_only(store):
    both = store.create_handoff("conv-both", [], "carer", ["shoko", "koreisha_ikiiki"], False, "")["ref"]
    shoko = store.create_handoff("conv-shoko", [], "carer", ["shoko"], True, "")["ref"]
    # A section whose name is part of another's must not see its cases (the LIKE pattern was ",x,").
    store.create_handoff("conv-other", [], "carer", ["shoko_kikaku"], False, "")
    assert [h["ref"] for h in store.list_handoffs(SHOKO)] == [shoko, both]  # crisis first
    assert [h["ref"] for h in store.list_handoffs(IKIIKI)] == [both]
    assert [h["ref"] for h in store.list_handoffs(ADMIN, section="koreisha_ikiiki")] == [both]
    assert [h["ref"] for h in store.list_handoffs(SHOKO, section="koreisha_ikiiki")] == [both]
    assert store.get(IKIIKI, shoko) is None and not store.set_status(IKIIKI, shoko, "closed")
    assert store.set_status(IKIIKI, both, "closed")


def test_a_deleted_case_leaves_no_rows(store):
    old = store.create_handoff("conv-old", [], "carer", ["shoko", "koreisha_ikiiki"], False, "")["ref"]
    young = store.create_handoff("conv-young", [], "carer", ["shoko"], False, "")["ref"]
    with store.session() as s:
        s.query(Handoff).filter_by(ref=old).one().created_at = now() - dt.timedelta(days=400)
        s.commit()
    assert store.purge(365, 24, 900)["handoffs"] == 1
    assert [section for _, _, section in _rows(store)] == ["shoko"]
    assert store.get(ADMIN, young)["destinations"] == ["shoko"]


def test_an_in_memory_store_is_migrated_on_its_own_engine():
    store = Store("sqlite://")
    ref = store.create_handoff("conv-m", [], "carer", ["shoko"], False, "")["ref"]
    assert store.get(SHOKO, ref)["destinations"] == ["shoko"]
    with store.session() as s:
        assert s.query(HandoffDestination.section).all() == [("shoko",)]
