"""The per-patient ledger document expires with the last rule year it holds and drops records of closed years."""

import asyncio
import time

import pytest
import redis
import redis.asyncio as aredis

from isf.events import Delta
from isf.periods.ledger import ApplyItem, Contributions
from services.common.infra import LocalInfra
from services.common.redis import ContributionLedger
from tests.integration.store_values import store_values

pytestmark = pytest.mark.integration


def item(stat: str) -> Contributions:
    return Contributions(items=(Delta(stat=stat, period="2026", points_micro=5, count=1),))


@pytest.fixture
def ledger():
    """A Redis of its own and apply(src, rev, close): one item of patient p1's points ledger."""
    with LocalInfra() as infra:
        client = redis.Redis.from_url(infra.redis_url)
        loop = asyncio.new_event_loop()
        store = ContributionLedger(aredis.from_url(infra.redis_url), **store_values())

        def apply(src: str, rev: str, close: int):
            new = item(f"P|2026|{src}")
            one = ApplyItem(namespace="pts", patient="p1", source=src, revision=rev, contributions=new, closes_at=close)
            return loop.run_until_complete(store.apply([one]))[0]

        try:
            yield client, apply
        finally:
            loop.close()


def test_a_patients_ledger_document_expires_with_its_last_rule_year_and_drops_closed_records(ledger):
    client, apply = ledger
    now = int(time.time())
    apply("open", "1", now + 3600)
    apply("closing", "1", now + 2)
    assert abs(client.ttl("isf:{p1}:L:pts") - 3600) <= 2  # the last rule year it holds
    time.sleep(3)
    apply("open", "2", now + 3600)  # the next write drops the closed record
    assert b"closing" not in client.get("isf:{p1}:L:pts")
    again = apply("closing", "1", now + 3600)  # as if its key had expired: new again
    assert again is not None and [d.points_micro for d in again.deltas] == [5]


def test_a_new_source_written_beside_a_closed_record_drops_the_record_and_its_strings(ledger):
    client, apply = ledger
    now = int(time.time())
    apply("closing", "1", now + 2)
    apply("open", "1", now + 3600)
    assert b"P|2026|closing" in client.get("isf:{p1}:L:pts")
    time.sleep(3)
    apply("new", "1", now + 3600)  # not a replacement: the document is otherwise written back as it was read
    doc = client.get("isf:{p1}:L:pts")
    assert b"closing" not in doc and b"P|2026|open" in doc and b"P|2026|new" in doc
