"""10 000 hypothesis-generated hostile inputs through the running ingest service: no crash, nothing dropped."""

import time

import pytest
import redis
from hypothesis import HealthCheck, Phase, given, settings

from isf.periods.calendar import first_open_year
from isf.pseudonym import DEMO_KEY
from isf.replay import Pipeline
from services.cli.run import COUNTED
from services.cli.runner import Stack, produce
from services.common.redis import read_counters
from tests.fuzz_inputs import HOSTILE

pytestmark = pytest.mark.integration


def test_10000_hostile_inputs_through_the_ingest_service_are_all_counted():
    inputs: list[bytes] = []

    @settings(
        max_examples=10_000,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(raw=HOSTILE)
    def collect(raw):
        inputs.append(raw)

    collect()
    assert len(inputs) >= 10_000
    replay = Pipeline(DEMO_KEY, open_from=first_open_year(time.time()))  # the service's closed-year rule
    for raw in inputs:  # as they are: `run` would strip line ends, the service does not
        replay.handle(raw)
    expected = {k: replay.counters[k] for k in COUNTED}
    assert expected["dead_lettered"] > 1000 and expected["accepted"] > 200  # a real mix of both
    stack = Stack()
    try:
        stack.start(("ingest",))
        client = redis.Redis.from_url(stack.infra.redis_url)
        t0 = time.monotonic()
        produce(stack.infra.bootstrap, [(f"k{i}", raw) for i, raw in enumerate(inputs)])
        got = {}
        while time.monotonic() - t0 < 180:
            got = {k: read_counters(client).get(k, 0) for k in COUNTED}
            if got == expected:
                break
            time.sleep(0.5)
        print(f"\n{len(inputs)} hostile inputs: {expected} in {time.monotonic() - t0:.1f} s")
        assert got == expected  # every input counted exactly as replay counts it: none dropped
        assert stack.alive() == {"ingest": 1} and stack.started["ingest"] == 0  # never crashed
        assert client.llen("isf:{none}:errors") > 0
    finally:
        stack.stop()
