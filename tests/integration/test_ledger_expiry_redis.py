"""A patient's ledger expires with the last rule year it holds; a record of a closed year counts as gone."""

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


def test_a_patients_ledger_expires_with_its_last_rule_year_and_a_closed_record_counts_as_gone(ledger):
    client, apply = ledger
    now = int(time.time())
    apply("open", "1", now + 3600)
    apply("closing", "1", now + 2)
    assert abs(client.ttl("isf:{p1}:ledger") - 3600) <= 2  # the last rule year it holds
    time.sleep(3)
    assert apply("closing", "0", now + 3600) is not None  # an older revision applies: the closed record is gone
    assert client.hget("isf:{p1}:ledger", "pts:closing") == b"3"  # under a record number of its own, not the closed one


def test_a_source_of_an_open_year_keeps_the_key_alive_beyond_an_earlier_close(ledger):
    client, apply = ledger
    now = int(time.time())
    apply("closing", "1", now + 60)
    assert abs(client.ttl("isf:{p1}:ledger") - 60) <= 2
    apply("open", "1", now + 3600)
    assert abs(client.ttl("isf:{p1}:ledger") - 3600) <= 2
    apply("never", "1", 0)  # a record that never closes: the key stays
    assert client.ttl("isf:{p1}:ledger") == -1
    apply("later", "1", now + 7200)
    assert client.ttl("isf:{p1}:ledger") == -1
