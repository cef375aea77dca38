"""End to end on a real Kafka-protocol broker (Tansu) and a real Redis: streaming equals replay."""

import asyncio
import json
import random
import time
import urllib.request

import pytest
import redis
import redis.asyncio as aredis

from isf.feed import Feed, FeedConfig
from isf.pseudonym import DEMO_KEY
from isf.replay import Pipeline
from services import cli
from services.cli.run import expected_state, wait_converged
from services.cli.runner import Stack, produce
from services.common.infra import LocalInfra
from services.common.redis import RedisStore, read_totals
from services.common.scripted import apply_events
from tests.integration.store_values import store_values
from tests.unit.helpers import episode
from tests.unit.helpers import raw as raw_event
from tests.unit.test_any_order import with_conflicts
from tests.unit.test_residence import _tfg_members

pytestmark = pytest.mark.integration


def test_redis_scripts_equal_the_in_memory_ledger():
    """The Lua ledger, ingest and totals give exactly what replay's in-memory stores give."""
    events = [raw for _k, raw in Feed(FeedConfig(seed=7)).events(3000)]
    expected = Pipeline(b"k").run(events)
    with LocalInfra() as infra:
        # micro-batches of 100, every one applied twice: a redelivery changes nothing
        store = RedisStore(aredis.from_url(infra.redis_url), **store_values())
        asyncio.run(apply_events(store, events, b"k", batch=100, deliveries=2))
        assert read_totals(redis.Redis.from_url(infra.redis_url)) == list(expected.totals.rows())


def test_5000_events_through_the_services_settle_exactly_as_replay_even_with_a_worker_killed(tmp_path, capsys):
    """Shuffled, with same-version conflicts and TFG activity of the same patients cloned at a second HF:
    residence figures, the national TFG credit and the revision order all as replay gives them; the coding
    feedback the monitor serves is what `isf coding` prints, a corrected episode out of its error list."""
    events = list(
        Feed(FeedConfig(seed=11, duplicates=0.02, corrections=0.05, deletes=0.02, late=0.02, invalid=0.01)).events(4800)
    )
    rng = random.Random(11)
    extra = with_conflicts([raw for _k, raw in events], rng)[len(events) :]
    extra += [
        json.dumps(
            {
                **ev,
                "hf": "hbe" if ev["hf"] != "hbe" else "ous",
                "event_id": "clone-" + ev["event_id"],
                **{k: "clone-" + ev[k] for k in ("episode_id", "prescription_id") if k in ev},
            }
        ).encode()
        for ev in _tfg_members([raw for _k, raw in events])[:150]
    ]
    errors = [
        episode(hf="unn", episode_id=f"coding-{i}", patient_id=f"SYN-CODING-{i}", main_condition="X999", version=1)
        for i in range(4)
    ]
    extra += [raw_event(e) for e in errors]
    extra.append(raw_event({**errors[0], "event_id": "coding-fix", "version": 2, "main_condition": "J189"}))
    events += [(f"x{i}", raw) for i, raw in enumerate(extra)]
    rng.shuffle(events)
    expected = Pipeline(DEMO_KEY).run([raw for _k, raw in events])
    assert expected.counters["dead_lettered"] > 0 and expected.counters["superseded"] > 0
    with Stack() as stack:
        client = redis.Redis.from_url(stack.infra.redis_url)
        produce(stack.infra.bootstrap, events[:2500])
        # kill the aggregator mid-stream, once something has reached it, and start it again
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not client.exists("isf:{totals}:pts"):
            time.sleep(0.2)
        t0 = time.monotonic()
        stack.restart_worker("aggregator")
        produce(stack.infra.bootstrap, events[2500:])
        ok, got, waited = wait_converged(client, expected_state(expected), timeout=180)
        print(
            f"\nconverged={ok} {waited:.1f} s after the last event; "
            f"aggregator restarted {time.monotonic() - t0:.1f} s ago"
        )
        assert got["events"] == expected_state(expected)["events"]
        assert got["points_micro_by_hf"] == expected_state(expected)["points_micro_by_hf"]
        assert ok
        c = expected.counters
        assert c["in"] == len(events) == c["accepted"] + c["superseded"] + c["dead_lettered"] + c["repeat"]
        # no raw patient identifier anywhere in Redis
        raw_ids = {e.split(b'"patient_id": "')[1].split(b'"')[0] for _k, e in events if b'"patient_id": "SYN' in e}
        dump = b" ".join(k for k in client.scan_iter(count=5000))
        for key in client.scan_iter(match="isf:{*}:ledger", count=5000):
            dump += b" " + b" ".join(x for kv in client.hgetall(key).items() for x in kv)
        assert not any(rid in dump for rid in list(raw_ids)[:500])
        assert all(n == 1 for n in stack.alive().values())
        served = _get(stack, "/api/coding?year=2026")
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(raw for _k, raw in events))
    capsys.readouterr()
    assert cli.main(["coding", "--year", "2026", "--workers", "1", str(path)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert served == printed
    unn = served["hf"]["unn"]
    assert sorted(e["source"] for e in unn["error_episodes"] if e["code"] == "X999") == [
        f"E:unn:coding-{i}" for i in (1, 2, 3)
    ]


def _get(stack: Stack, path: str) -> dict:
    req = urllib.request.Request(
        f"http://127.0.0.1:{stack.monitor_port}{path}", headers={"Authorization": f"Bearer {stack.tokens['national']}"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())
