"""One test case for every implementation of the store ports (`isf.stages`): the in-memory twins and the
Lua scripts on a real Redis inherit it (tests/unit/test_store_memory.py, tests/integration/test_store_redis.py),
as eventsourcing runs one test case against every storage backend.

A subclass provides `fresh(clock=None)` -> (ingest store, ledger store, totals store), whose ingest and ledger
stores judge rule-year closes and dead-letter retention (`DEAD_TTL`) by `clock` when given, `drive(coro)` -> its
result, `rows()` -> the settled totals as (`stat|period`, micro-points, count) rows, `sums()` -> the view's
sums as kept beside them, and `indicators()` -> the indicator sums kept beside them for statements.
"""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isf import stages
from isf.events import Delta
from isf.ingest import DeadItem, DecideItem, revision
from isf.periods import LEDGERS
from isf.periods.ledger import ApplyItem, Contributions, Unit
from isf.replay import Pipeline
from isf.settlement.statements import indicator_sums
from isf.settlement.views import view_sums
from tests.unit.helpers import KEY, episode, raw

# --- delivery histories: versions, deletes, patient corrections, duplicates, in any order

TEMPLATES = [
    dict(main_condition="N185", procedures=["KAS00"]),
    dict(main_condition="N185", procedures=["KAS15"], care_level="indirect"),
    dict(main_condition="H353", procedures=["CKD05"]),
    dict(main_condition="M545", contact_mode="video"),
    dict(main_condition="G35", procedures=["WBGM20"]),
    dict(main_condition="J189", care_level="inpatient", admitted_at="2026-02-01T08:00:00"),
]


@st.composite
def histories(draw):
    n = draw(st.integers(1, 8))
    events, final = [], {}
    for i in range(n):
        versions = draw(st.integers(1, 3))
        for v in range(1, versions + 1):
            t = draw(st.sampled_from(TEMPLATES))
            month = draw(st.integers(1, 12))
            ev = episode(
                episode_id=f"h-{i}",
                version=v,
                patient_id=draw(st.sampled_from(["A", "B"])),
                hf=draw(st.sampled_from(["ous", "hbe"])) if v == 1 else events[-1]["hf"],
                admitted_at=f"2026-{month:02d}-05T08:00:00",
                discharged_at=f"2026-{month:02d}-06T08:00:00",
                **{k: v2 for k, v2 in t.items() if k != "admitted_at"},
            )
            if v > 1:
                ev["hf"] = events[-1]["hf"]
            if draw(st.booleans()) and v == versions and versions > 1:
                ev["action"] = "delete"
            events.append(ev)
            final[(ev["hf"], ev["episode_id"])] = ev
    dups = draw(st.lists(st.sampled_from(events), max_size=5))
    order = draw(st.permutations(events + dups))
    return order, [e for e in final.values() if e["action"] == "upsert"]


DEAD_TTL = 14 * 24 * 3600  # ISF_EVENT_TTL's default: how long a dead-lettered payload is remembered


class Clock:
    """A clock the test sets: Unix seconds, starting now (the Redis keys' own expiry stays in the future)."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now


class StoreContract:
    def fresh(self, clock=None):
        raise NotImplementedError

    def drive(self, coro):
        raise NotImplementedError

    def rows(self) -> list:
        raise NotImplementedError

    def sums(self) -> tuple:
        """The view's sums as the backend keeps them (`isf.settlement.views.view_sums` of its rows in memory)."""
        raise NotImplementedError

    def indicators(self) -> dict:
        """The indicator sums as the backend keeps them (`isf.settlement.statements.indicator_sums` of its rows in
        memory)."""
        raise NotImplementedError

    def decide(self, store, event_id: str, version: int, patient: str = "p", deleted: bool = False, close: int = 0):
        item = DecideItem(
            source="E:ous:s",
            event_id=event_id,
            revision=revision(version, deleted, event_id),
            category="grouped",
            closes_at=close,
            patient=patient,
        )
        return self.drive(store.decide([item]))[0]

    def apply(self, ledger, source: str, rev: str, close: int, units=(), points: int = 5):
        new = Contributions(items=(Delta(stat=f"P|2026|{source}", period="2026", points_micro=points, count=1),))
        if units:
            new = Contributions(items=new.items, units=units)
        item = ApplyItem(namespace="pts", patient="p1", source=source, revision=rev, contributions=new, closes_at=close)
        got = self.drive(ledger.apply([item]))[0]
        return None if got is None else sorted((d.stat, d.period, d.points_micro, d.count) for d in got.deltas)

    def test_every_ingest_outcome_and_the_current_event_again_is_a_repeat_of_it(self):
        ingest, _, _ = self.fresh()
        outcomes = [
            self.decide(ingest, eid, v)[0] for eid, v in (("e2", 2), ("e1", 1), ("e2", 2), ("e1", 1), ("e3", 3))
        ]
        assert outcomes == ["accepted", "superseded", "repeat_current", "repeat", "accepted"]

    def test_a_source_is_forgotten_with_its_event_ids_once_its_rule_year_closes(self):
        clock = Clock()
        ingest, _, _ = self.fresh(clock)
        close, later = int(clock.now) + 100, int(clock.now) + 10_000
        assert self.decide(ingest, "e2", 2, close=close) == ("accepted", "")
        assert self.decide(ingest, "e1", 1, close=close) == ("superseded", "")
        clock.now = close - 1
        assert self.decide(ingest, "e1", 1, close=close) == ("repeat", "")
        clock.now = close
        assert self.decide(ingest, "e1", 1, close=later) == ("accepted", "")  # nothing of the closed year is left
        assert self.decide(ingest, "e2", 2, close=later) == ("accepted", "")

    def test_a_dead_lettered_payload_is_counted_again_only_after_its_retention(self):
        clock = Clock()
        ingest, _, _ = self.fresh(clock)
        dead = DeadItem(hf="ous", digest="d1", errors="[]")
        assert self.drive(ingest.dead_letter([dead])) == [True]
        clock.now += DEAD_TTL - 1
        assert self.drive(ingest.dead_letter([dead])) == [False]
        clock.now += 1
        assert self.drive(ingest.dead_letter([dead])) == [True]

    def test_a_ledger_record_of_a_closed_rule_year_is_dropped_and_an_older_revision_then_applies(self):
        clock = Clock()
        _, ledger, _ = self.fresh(clock)
        close, later = int(clock.now) + 100, int(clock.now) + 10_000
        assert self.apply(ledger, "a", "2", close) == [("P|2026|a", "2026", 5, 1)]
        assert self.apply(ledger, "a", "1", close) is None  # older
        clock.now = close
        assert self.apply(ledger, "a", "1", later) == [("P|2026|a", "2026", 5, 1)]  # as if new

    def test_a_closed_first_member_leaves_its_unit_without_deltas_and_the_next_member_is_credited(self):
        clock = Clock()
        _, ledger, _ = self.fresh(clock)
        close, later = int(clock.now) + 100, int(clock.now) + 10_000

        def unit(points):
            return ((Unit("TFG|2026|X", "p1", "2026", "P|2026|TFG", points), 20260105 if points == 7 else 20260301),)

        credited = [("P|2026|TFG", "2026", 7, 1), ("P|2026|first", "2026", 5, 1)]
        assert self.apply(ledger, "first", "1", close, unit(7)) == credited
        assert self.apply(ledger, "second", "1", later, unit(9)) == [("P|2026|second", "2026", 5, 1)]
        clock.now = close
        # the first member's record went without deltas, so the second member's change now moves the credit
        assert self.apply(ledger, "second", "2", later, unit(11), points=6) == [
            ("P|2026|TFG", "2026", 2, 0),
            ("P|2026|second", "2026", 1, 0),
        ]

    def run_events(self, events: list[bytes], batch: int = 3, deliveries: int = 1) -> list:
        ingest, ledger, totals = self.fresh()
        for i in range(0, len(events), batch):
            out = self.drive(stages.ingest(events[i : i + batch], KEY, ingest))
            grouped = stages.group(out.passed)
            for ns, contributions in LEDGERS:
                for _ in range(deliveries):
                    self.drive(
                        stages.settle(self.drive(stages.apply_ledger(grouped, ns, contributions, ledger)), totals)
                    )
        return self.rows()

    def test_a_higher_revision_replaces_and_a_repeated_or_older_event_changes_nothing(self):
        ingest, _, _ = self.fresh()
        assert self.decide(ingest, "e1", 1) == ("accepted", "")
        assert self.decide(ingest, "e1", 1) == ("repeat_current", "")
        assert self.decide(ingest, "e2", 2) == ("accepted", "")
        assert self.decide(ingest, "e1", 1) == ("repeat", "")
        assert self.decide(ingest, "e0", 1) == ("superseded", "")

    def test_at_one_version_a_delete_wins_over_an_upsert_whichever_comes_first(self):
        for first, second in (("up", "del"), ("del", "up")):
            ingest, _, _ = self.fresh()
            self.decide(ingest, first, 2, deleted=first == "del")
            got = self.decide(ingest, second, 2, deleted=second == "del")
            assert got[0] == ("accepted" if second == "del" else "superseded")

    def test_a_corrected_patient_withdraws_the_source_from_the_old_one_again_on_every_repeat(self):
        ingest, _, _ = self.fresh()
        self.decide(ingest, "e1", 1, patient="A")
        assert self.decide(ingest, "e2", 2, patient="B") == ("accepted", "A")
        assert self.decide(ingest, "e2", 2, patient="B") == ("repeat_current", "A")

    def test_a_version_10_delete_after_version_9_withdraws_the_episode(self):
        up = episode(episode_id="x", version=9, event_id="e9", main_condition="H353", procedures=["CKD05"])
        assert self.run_events([raw(up)], batch=1) != []
        assert (
            self.run_events([raw(up), raw({**up, "version": 10, "event_id": "e10", "action": "delete"})], batch=1) == []
        )

    def test_a_dead_lettered_payload_is_counted_once(self):
        ingest, _, _ = self.fresh()
        d1, d2 = DeadItem(hf="ous", digest="d1", errors="[]"), DeadItem(hf=None, digest="d2", errors="[]")
        assert self.drive(ingest.dead_letter([d1, d1, d2])) == [True, False, True]

    def test_a_delta_batch_is_settled_once_however_often_it_arrives(self):
        events = [raw(episode(main_condition="H353", procedures=["CKD05"]))]
        expected = list(Pipeline(KEY).run(events).totals.rows())
        assert self.run_events(events, deliveries=3) == expected
        assert self.sums() == view_sums(expected) and self.sums()[0]
        assert self.indicators() == indicator_sums(expected) and self.indicators()

    # Each backend's subclass runs this one function (differing executors): every example starts from fresh()
    # stores, so nothing carries between examples or backends.
    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.differing_executors],
    )
    @given(histories(), st.sampled_from([1, 2, 5]))
    def test_any_delivery_history_converges_to_the_final_data(self, h, batch):
        history, final = h
        expected = list(Pipeline(KEY).run([raw({**e, "version": 1}) for e in final]).totals.rows())
        assert self.run_events([raw(e) for e in history], batch=batch, deliveries=2) == expected
        assert self.sums() == view_sums(expected)  # the view's sums, kept beside the totals, end the same
        assert self.indicators() == indicator_sums(expected)  # and so do the statements' indicator sums
