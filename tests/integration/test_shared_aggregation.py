"""Two ingest and two aggregator workers share the partitions of their consumer groups (ingest's a plain
aiokafka group, the aggregator's faust's) and still end exactly where replay does."""

import pytest
import redis

from isf.feed import Feed, FeedConfig
from isf.pseudonym import DEMO_KEY
from isf.replay import Pipeline
from services.run import expected_state, wait_converged
from services.runner import Stack, produce

pytestmark = pytest.mark.integration


def test_two_ingest_and_two_aggregator_workers_end_in_the_replay_counts():
    events = list(
        Feed(FeedConfig(seed=23, duplicates=0.03, corrections=0.08, deletes=0.03, late=0.03, invalid=0.01)).events(4000)
    )
    expected = expected_state(Pipeline(DEMO_KEY).run([raw for _k, raw in events]))
    with Stack() as stack:
        stack.start_worker("aggregator")  # a second member of the same consumer group
        stack.start_worker("ingest")
        client = redis.Redis.from_url(stack.infra.redis_url)
        produce(stack.infra.bootstrap, events)
        ok, got, waited = wait_converged(client, expected, timeout=180)
        workers = {k.decode(): int(v) for k, v in client.hgetall("isf:{stats}:workers").items()}
        print(f"\nconverged={ok} {waited:.1f} s after the last event; messages per worker: {workers}")
        assert got["rows"] == expected["rows"]
        assert ok
        for service in ("ingest", "aggregator"):
            per_worker = [n for k, n in workers.items() if k.startswith(f"{service}:")]
            assert len(per_worker) == 2 and all(n > 0 for n in per_worker), workers
        # STG/TFG patient-periods were among what the two workers shared
        assert any(k.split("|")[4] in ("STG", "TFG") for k, _p, c in got["rows"] if k.startswith("P|") and c)
        assert stack.alive()["aggregator"] == 2 and stack.alive()["ingest"] == 2
