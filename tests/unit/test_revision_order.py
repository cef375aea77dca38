"""Which revision of a source wins, and that the totals take each delta batch once: direct, fast checks of the
rules the any-order property (tests/unit/test_any_order.py) only reaches after long shrinking."""

from isf.events import Delta, DeltaBatch
from isf.ingest import MemoryIngestLedger, revision, state_year, withdrawal
from isf.periods.ledger import Contributions, MemoryLedger, Unit, contributions
from isf.replay import Pipeline
from isf.settlement.totals import Totals

from .helpers import KEY, activity, episode, raw


def test_version_10_is_a_later_revision_than_version_9_whatever_the_event_ids():
    assert revision(10, False, "a") > revision(9, False, "z")
    assert revision(10, False, "a") > revision(9, True, "z")
    assert revision(100, False, "a") > revision(99, True, "z") > revision(9, True, "z")


def test_a_version_10_delete_after_version_9_withdraws_the_episode_in_replay():
    up = episode(episode_id="x", version=9, event_id="e9")
    down = {**up, "version": 10, "event_id": "e10", "action": "delete"}
    assert Pipeline(KEY).run([raw(up)]).result()["points_micro_by_hf"] != {}
    assert Pipeline(KEY).run([raw(up), raw(down)]).result()["points_micro_by_hf"] == {}


def test_two_events_of_one_version_are_ordered_by_event_id_so_the_greater_wins_in_either_order():
    for order in (("e-a", "e-b"), ("e-b", "e-a")):
        led = MemoryIngestLedger()
        outcomes = [led.decide_one("s", eid, revision(3, False, eid), "p")[0] for eid in order]
        assert led.current["s"][1] == "e-b"
        assert outcomes == (["accepted", "accepted"] if order[0] == "e-a" else ["accepted", "superseded"])


def test_a_resent_version_with_other_content_replays_to_the_same_numbers_in_either_order():
    a = episode(episode_id="x", version=2, event_id="e-a", main_condition="M545")
    b = {**a, "event_id": "e-b", "main_condition": "J189", "care_level": "inpatient", "contact_mode": None}
    results = [Pipeline(KEY).run([raw(e) for e in order]).result() for order in ((a, b), (b, a))]
    assert results[0]["points_micro_by_hf"] == results[1]["points_micro_by_hf"] != {}
    assert results[0]["points_micro_by_hf"] == Pipeline(KEY).run([raw(b)]).result()["points_micro_by_hf"]


def _points(micro: int) -> Contributions:
    return Contributions(items=(Delta("P|2026|ous|somatic|DRG|801A|0301", "2026-T1", micro, 1),))


def test_an_older_revision_redelivered_after_a_newer_one_changes_nothing_in_the_ledger():
    ledger, totals = MemoryLedger(), Totals()
    r1, r2 = revision(1, False, "e1"), revision(2, False, "e2")
    first = ledger.apply_one("pts", "p", "s", r2, _points(200))
    assert totals.apply(first)
    assert ledger.apply_one("pts", "p", "s", r1, _points(100)) is None
    again = ledger.apply_one("pts", "p", "s", r2, _points(200))
    assert again == first
    totals.apply(again)
    assert list(totals.rows()) == [("P|2026|ous|somatic|DRG|801A|0301|2026-T1", 200, 1)]


def test_a_redelivered_delta_batch_is_added_to_the_totals_once():
    totals = Totals()
    batch = DeltaBatch("pts:s:r1", [Delta("P|2026|ous|somatic|DRG|801A|0301", "2026-T1", 250, 1)])
    assert totals.apply(batch) is True
    assert totals.apply(DeltaBatch("pts:s:r1", list(batch.deltas))) is False
    assert list(totals.rows()) == [("P|2026|ous|somatic|DRG|801A|0301|2026-T1", 250, 1)]


def test_no_batch_or_an_empty_one_is_not_recorded_as_settled():
    totals = Totals()
    assert totals.apply(None) is False and totals.apply(DeltaBatch("pts:s:r2", [])) is False
    assert totals.applied == set()


def test_a_withdrawal_from_the_old_patient_keeps_the_stays_dates_and_so_expires_with_its_rule_year():
    a = activity(
        episode(care_level="inpatient", admitted_at="2025-12-30T08:00:00", discharged_at="2026-01-02T10:00:00")
    )
    w = withdrawal(a, "old-patient")
    assert (w.deleted, w.patient, w.source_id) == (True, "old-patient", a.source_id)
    assert (w.start, w.end, w.residence, w.hf) == (a.start, a.end, a.residence, a.hf)
    assert state_year(w) == state_year(a) == 2026


def _settle(revisions: list[Contributions]) -> list:
    """The totals after applying each contribution set as the next revision of one source."""
    ledger, totals = MemoryLedger(), Totals()
    for v, c in enumerate(revisions, start=1):
        totals.apply(ledger.apply_one("pts", "p", "s", revision(v, False, f"e{v}"), c))
    return list(totals.rows())


DRG = "P|2026|ous|somatic|DRG|801A|0301"


def test_a_correction_that_changes_only_the_points_of_a_statistic_moves_its_total():
    planned, acute = (Contributions(items=(Delta(DRG, "2026-T1", m, 1),)) for m in (1_000_000, 1_150_000))
    assert _settle([planned, acute]) == [(f"{DRG}|2026-T1", 1_150_000, 1)]


TFG = "P|2026|ous|somatic|TFG|BT01|0301"


def _tfg_year(micro: int, score: int) -> tuple[Unit, int]:
    return Unit("TFG|2026|BT01", "p", "2026", TFG, micro, by_first=True), score


def test_a_unit_member_whose_points_change_on_the_same_date_moves_the_credit_beside_an_unchanged_unit():
    unique = (Unit("I|2026|ous|patients|all", "p", "2026", "I|2026|ous|patients|all"), 20260302)
    isf, not_isf = (Contributions(units=(unique, _tfg_year(m, 20260302))) for m in (1_650_000, 0))
    assert _settle([isf, not_isf]) == [("I|2026|ous|patients|all|2026", 0, 1), (f"{TFG}|2026-T1", 0, 1)]


def test_a_year_long_unit_whose_only_member_moves_to_another_tertial_is_credited_to_that_tertial():
    march, june = (Contributions(units=(_tfg_year(1_650_000, score),)) for score in (20260302, 20260601))
    assert _settle([march, june]) == [(f"{TFG}|2026-T2", 1_650_000, 1)]


def test_an_activity_whose_drg_and_stg_belong_to_one_tfg_is_one_member_of_it_as_first_given():
    by_drg, by_stg = _tfg_year(1_650_000, 20260302), _tfg_year(0, 20260302)
    assert contributions([], [by_drg, by_stg]).units == (by_drg,)
