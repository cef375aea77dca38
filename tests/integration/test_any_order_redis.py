"""Any delivery order, same numbers, through the Redis scripts: the Lua twin of the ledgers on a real Redis.

Permutations of real feed slices (with same-version conflicts and duplicates) applied in micro-batches,
each batch delivered twice, end in exactly the totals replay gives for the feed in its own order.
"""

import asyncio
import random

import pytest
import redis
import redis.asyncio as aredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isf.replay import Pipeline
from services.common.infra import LocalInfra
from services.common.redis import RedisStore, read_totals
from services.common.scripted import apply_events
from tests.integration.store_values import store_values
from tests.unit.test_any_order import feed_slice, with_conflicts

pytestmark = pytest.mark.integration
KEY = b"k"


@pytest.fixture(scope="module")
def redis_url():
    with LocalInfra() as infra:
        yield infra.redis_url


def through_redis(url: str, events: list[bytes], batch: int) -> list:
    client = redis.Redis.from_url(url)
    client.flushdb()

    async def go():
        r = aredis.from_url(url)
        try:
            await apply_events(RedisStore(r, **store_values()), events, KEY, batch=batch, deliveries=2)
        finally:
            await r.aclose()

    asyncio.run(go())
    return read_totals(client)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), batch=st.sampled_from([1, 7, 50]), data=st.data())
def test_every_permutation_through_the_lua_scripts_settles_as_replay_of_the_feed_in_order(redis_url, seed, batch, data):
    events = with_conflicts(feed_slice(seed, 200), random.Random(seed))
    order = list(data.draw(st.permutations(events))) + data.draw(st.lists(st.sampled_from(events), max_size=10))
    expected = list(Pipeline(KEY).run(events).totals.rows())
    assert through_redis(redis_url, order, batch) == expected
