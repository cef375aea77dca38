"""`isf run`: the embedded default with live counters, and the convergence check against replay."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time

import redis

from isf.feed import Feed, FeedConfig
from isf.pseudonym import DEMO_KEY
from isf.replay import Pipeline
from isf.settlement.money import points_by_hf, summary
from services.common.bootstrap import redis_client
from services.common.redis import read_counters, read_totals

from .runner import Stack, produce

COUNTED = ("accepted", "superseded", "dead_lettered", "grouped", "deleted", "ongoing")


def streamed_state(client) -> dict:
    rows = read_totals(client)
    counters = read_counters(client)
    return {"events": {k: counters.get(k, 0) for k in COUNTED}, "points_micro_by_hf": points_by_hf(rows), "rows": rows}


def expected_state(pipeline: Pipeline) -> dict:
    return expected_of(pipeline.counters, list(pipeline.totals.rows()))


def expected_of(counters: dict[str, int], rows: list) -> dict:
    """What Redis must hold once the services have taken events whose replay gave these counters and rows."""
    return {"events": {k: counters.get(k, 0) for k in COUNTED}, "points_micro_by_hf": points_by_hf(rows), "rows": rows}


def wait_converged(client, expected: dict, timeout: float, stack=None) -> tuple[bool, dict, float]:
    """Poll Redis until the streamed totals and counters equal the replay's, or time runs out. With a
    `stack`, act as its supervisor meanwhile: a worker that exited is started again."""
    start = time.monotonic()
    got: dict = {}
    while time.monotonic() - start < timeout:
        if stack is not None:
            stack.supervise()
        try:
            got = streamed_state(client)
        except redis.RedisError:  # Redis restarting
            time.sleep(0.5)
            continue
        if got["events"] == expected["events"] and got["rows"] == expected["rows"]:
            return True, got, time.monotonic() - start
        time.sleep(0.5)
    return False, got, time.monotonic() - start


def run(duration: float | None, rate: float, seed: int) -> int:
    """Ctrl-C (or SIGTERM) stops the feed first, then the services, then the broker and Redis this started, so
    nothing is left talking to a broker or Redis that is gone."""
    stack = Stack()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    feeder: threading.Thread | None = None
    try:
        stack.start()
        # the operator's Redis (REDIS_URL, a cluster on REDIS_CLUSTER=1) as the services see it, or the one started here
        client = redis_client() if os.environ.get("REDIS_URL") else redis.Redis.from_url(stack.infra.redis_url)
        print(f"broker {stack.infra.bootstrap}  redis {stack.infra.redis_url}", file=sys.stderr)
        token = stack.tokens.get("national", "<your national token>")
        print(
            f"dashboard: http://127.0.0.1:{stack.monitor_port}/   (sign in there with a token)\n"
            f"national token: {token}   (all roles' tokens: {stack.logdir}/tokens.json)   Ctrl-C stops everything",
            file=sys.stderr,
        )
        expected = Pipeline(DEMO_KEY)
        sent = [0]
        count = int(rate * duration) if duration else 10**9

        def events():
            for key, raw in Feed(FeedConfig(seed=seed)).events(count):
                if stop.is_set():
                    return
                expected.handle(raw)
                sent[0] += 1
                yield key, raw

        feeder = threading.Thread(target=produce, args=(stack.infra.bootstrap, events(), rate), daemon=True)
        feeder.start()
        t0 = time.monotonic()
        while not stop.is_set() and (duration is None or time.monotonic() - t0 < duration):
            for name in stack.supervise():
                print(f"\nworker {name} had exited: started again", file=sys.stderr)
            c = read_counters(client)
            print(
                f"\r{time.monotonic() - t0:6.0f} s  sent {sent[0]:>8}  accepted {c.get('accepted', 0):>8}  "
                f"dead-lettered {c.get('dead_lettered', 0):>6}  alive {sum(stack.alive().values())}/6",
                end="",
                file=sys.stderr,
                flush=True,
            )
            stop.wait(1.0)
        stop.set()
        feeder.join(30)
        print(file=sys.stderr)
        ok, got, waited = wait_converged(client, expected_state(expected), timeout=60)
        s = summary(got["rows"])
        # events_in = accepted + superseded + dead_lettered + repeated (an event id sent again)
        out = {
            "events_in": sent[0],
            "events": {**got["events"], "repeated": expected.counters["repeat"]},
            "converged_with_replay": ok,
            "drain_s": round(waited, 1),
            "points_by_system": s["points"],
            "nok_by_rhf": {y: v.get("rhf", {}) for y, v in s["nok"].items()},
        }
        print(json.dumps(out, ensure_ascii=False))
        return 0 if ok else 1
    except KeyboardInterrupt:
        print("\nstopping: the feed, then the services, then the broker and Redis", file=sys.stderr)
        return 130
    finally:
        interrupt = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the shutdown short
        stop.set()
        if feeder is not None:
            feeder.join(30)
        stack.stop()
        signal.signal(signal.SIGINT, interrupt)
