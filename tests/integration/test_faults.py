"""Faults injected on purpose with the feed running: killed workers, a paused broker, a restarted Redis.

After each, the settled state must equal `isf replay` over the same input; recovery times are printed
(run with -s to see them) and are recorded in README's Reliability section.
"""

import os
import signal
import threading
import time

import pytest
import redis

from isf.feed import Feed, FeedConfig
from isf.pseudonym import DEMO_KEY
from isf.replay import Pipeline
from services.cli.run import expected_state, wait_converged
from services.cli.runner import SERVICES, Stack, produce
from tests.conftest import INFRA

pytestmark = pytest.mark.integration
FEED = FeedConfig(seed=51, duplicates=0.02, corrections=0.05, deletes=0.02, late=0.02, invalid=0.01)


def events(n, seed=51):
    return list(Feed(FeedConfig(**{**FEED.__dict__, "seed": seed})).events(n))


def feeding(stack, evs, rate):
    t = threading.Thread(target=produce, args=(stack.infra.bootstrap, evs, rate), daemon=True)
    t.start()
    return t


def worker_processed(client, pid) -> int:
    return sum(int(v) for k, v in client.hgetall("isf:{stats}:workers").items() if k.decode().endswith(f":{pid}"))


def answers(port) -> bool:
    import urllib.request

    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/api/openapi.json", timeout=2).status == 200
    except OSError:
        return False


def settle_and_compare(stack, client, evs, timeout=240):
    expected = expected_state(Pipeline(DEMO_KEY).run([raw for _k, raw in evs]))
    ok, got, waited = wait_converged(client, expected, timeout=timeout, stack=stack)
    assert got.get("events") == expected["events"]
    assert got.get("points_micro_by_hf") == expected["points_micro_by_hf"]
    assert ok, "settled totals differ from replay"
    return waited


def test_each_service_sigkilled_mid_stream_and_restarted_ends_equal_to_replay():
    evs = events(7000)
    recovery = {}
    with Stack() as stack:
        client = redis.Redis.from_url(stack.infra.redis_url)
        produce(stack.infra.bootstrap, evs[:1000])
        sent = 1000
        for name in SERVICES:
            chunk = evs[sent : sent + 900]
            sent += len(chunk)
            feeder = feeding(stack, chunk, rate=300)
            time.sleep(1.0)  # mid-stream
            t0 = time.monotonic()
            stack.restart_worker(name)
            pid = stack.workers[name][-1].pid
            deadline = t0 + 90
            while time.monotonic() < deadline:  # recovered: the new worker has handled messages again
                if worker_processed(client, pid) > 0 if name != "monitor" else answers(stack.monitor_port):
                    break
                time.sleep(0.25)
            recovery[name] = round(time.monotonic() - t0, 1)
            feeder.join(60)
        produce(stack.infra.bootstrap, evs[sent:])
        waited = settle_and_compare(stack, client, evs)
        print(
            f"\nrecovery after SIGKILL + restart, s (until the new worker handled input again): {recovery}; "
            f"converged {waited:.1f} s after the last event"
        )
        assert all(n == 1 for n in stack.alive().values())


def test_two_aggregators_one_killed_for_good_the_other_takes_over():
    evs = events(4000, seed=52)
    with Stack() as stack:
        stack.start_worker("aggregator")
        client = redis.Redis.from_url(stack.infra.redis_url)
        produce(stack.infra.bootstrap, evs[:1500])
        feeder = feeding(stack, evs[1500:], rate=400)
        time.sleep(2)
        t0 = time.monotonic()
        stack.kill_worker("aggregator", 0)
        feeder.join(60)
        expected = expected_state(Pipeline(DEMO_KEY).run([raw for _k, raw in evs]))
        ok, got, waited = wait_converged(client, expected, timeout=240)  # no supervisor: one worker is enough
        print(f"\none of two aggregators killed: converged {time.monotonic() - t0:.1f} s after the kill")
        assert got["rows"] == expected["rows"] and ok
        assert stack.alive()["aggregator"] == 1


OWN_PROCESSES = pytest.mark.skipif(
    INFRA != "local", reason="pauses and kills the broker or Redis process: only when the tests started them"
)


@OWN_PROCESSES
def test_broker_paused_for_20_seconds_mid_stream():
    evs = events(4000, seed=53)
    with Stack() as stack:
        client = redis.Redis.from_url(stack.infra.redis_url)
        produce(stack.infra.bootstrap, evs[:1500])
        time.sleep(3)
        broker = stack.infra.broker_proc
        os.kill(broker.pid, signal.SIGSTOP)
        try:
            time.sleep(20)
        finally:
            os.kill(broker.pid, signal.SIGCONT)
        t0 = time.monotonic()
        produce(stack.infra.bootstrap, evs[1500:])
        waited = settle_and_compare(stack, client, evs)
        print(
            f"\nbroker SIGSTOP 20 s then SIGCONT: converged {time.monotonic() - t0:.1f} s after SIGCONT "
            f"({waited:.1f} s after the last event)"
        )


@OWN_PROCESSES
def test_redis_killed_and_restarted_mid_stream_reloads_its_append_only_file():
    evs = events(4000, seed=54)
    with Stack() as stack:
        client = redis.Redis.from_url(stack.infra.redis_url)
        produce(stack.infra.bootstrap, evs[:1500])
        feeder = feeding(stack, evs[1500:], rate=400)
        time.sleep(2)
        t0 = time.monotonic()
        down = stack.infra.restart_redis()
        feeder.join(60)
        waited = settle_and_compare(stack, client, evs)
        print(
            f"\nRedis SIGKILL + restart (AOF, fsync always): back in {down:.2f} s, converged "
            f"{time.monotonic() - t0:.1f} s after the kill ({waited:.1f} s after the last event)"
        )
