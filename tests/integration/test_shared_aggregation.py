"""Two ingest and two aggregator workers share the partitions of their consumer groups (ingest's a plain
aiokafka group, the aggregator's faust's) and still end exactly where replay does, ingest's counters included:
hospitals key their input by source, so every version of a source is in one partition, in order."""

import time
import urllib.error
import urllib.request

import pytest
import redis

from isf.feed import Feed, FeedConfig
from isf.pseudonym import DEMO_KEY
from isf.replay import Pipeline
from services.cli.run import expected_state, wait_converged
from services.cli.runner import Stack, produce

pytestmark = pytest.mark.integration


def all_ready(stack, service: str, timeout: float = 90.0) -> None:
    """Wait until every worker of `service` answers /ready (it has partitions: the group has rebalanced),
    so that the feed is not all handled by the first member before the second joins."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if all(
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2).status == 200
                for port in stack.web_ports[service]
            ):
                return
        except (urllib.error.URLError, ConnectionError):
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{service}: not every worker ready within {timeout} s")
        time.sleep(0.5)


def test_two_ingest_and_two_aggregator_workers_end_in_the_replay_counts():
    events = list(
        Feed(FeedConfig(seed=23, duplicates=0.03, corrections=0.08, deletes=0.03, late=0.03, invalid=0.01)).events(4000)
    )
    expected = expected_state(Pipeline(DEMO_KEY).run([raw for _k, raw in events]))
    with Stack() as stack:
        stack.start_worker("aggregator")  # second members of the same consumer groups
        stack.start_worker("ingest")
        all_ready(stack, "aggregator")
        all_ready(stack, "ingest")
        client = redis.Redis.from_url(stack.infra.redis_url)
        produce(stack.infra.bootstrap, events)
        ok, got, waited = wait_converged(client, expected, timeout=180)
        workers = {k.decode(): int(v) for k, v in client.hgetall("isf:{stats}:workers").items()}
        print(f"\nconverged={ok} {waited:.1f} s after the last event; messages per worker: {workers}")
        assert got["events"] == expected["events"]
        assert got["rows"] == expected["rows"]
        for service in ("ingest", "aggregator"):
            per_worker = [n for k, n in workers.items() if k.startswith(f"{service}:")]
            assert len(per_worker) == 2 and all(n > 0 for n in per_worker), workers
        # STG/TFG patient-periods were among what the two workers shared
        assert any(k.split("|")[4] in ("STG", "TFG") for k, _p, c in got["rows"] if k.startswith("P|") and c)
        assert stack.alive()["aggregator"] == 2 and stack.alive()["ingest"] == 2
