"""A national year measured to the end: the year's feed replayed on every core, then sent through the services
on one Redis in broker lifetimes, the streamed totals compared with the replay's, and the 1 000/s latency phase
on the year's state.

The local broker (Tansu, memory storage) keeps every record it is sent and honours neither retention nor
DeleteRecords: some 3 KB of its memory per event over all topics, 40 GB for a year. So the services take the year
in lifetimes of a fresh broker each (the services restarted on it, Redis kept): each lifetime is drained before
its broker stops, as Kafka's retention would drop records long consumed. Nothing else is kept on the broker
(the services hold their state in Redis)."""

from __future__ import annotations

import itertools
import os
import resource
import tempfile
import time
from functools import partial

from services.common.infra import LocalInfra, wait_port
from services.common.progress import Progress

from .common import _cpu_s, _log, _rss_kib, cpu_us_per_event, redis_usec, watched_pids
from .latency import _Tracker, timed_latency
from .state import _wait_quiet

SEED = 106  # the year's feed
LATENCY_SEED = 107  # the events of the latency phase after it
LIFETIME = 1_500_000  # events a broker takes before the next one: some 5 GB of its memory


def bench_national(
    events: int, lifetime: int = LIFETIME, rate: int = 1000, seconds: float = 30, converge_timeout: float = 900
) -> dict:
    import redis

    from isf.pseudonym import DEMO_KEY

    from ..run import expected_of, wait_converged

    _log(f"national year: replay of {events} events")
    replay, counters, rows = _replay(events, DEMO_KEY)
    _log(f"replayed at {replay['events_per_s']} events/s; the services, {lifetime} events a broker lifetime")
    home = LocalInfra().start()  # its Redis holds the year; its own broker stays idle
    try:
        client = redis.Redis.from_url(home.redis_url)
        empty = client.info("memory")["used_memory"]
        services, stack = _stream(home.redis_url, client, events, lifetime)
        try:
            ok, _got, waited = wait_converged(
                client, expected_of(counters, rows), timeout=converge_timeout, stack=stack
            )
            services["equal_to_replay"] = ok
            services["redis_used_memory"] = client.info("memory")["used_memory"]
            services["redis_bytes_per_event"] = round((services["redis_used_memory"] - empty) / events)
            _log(f"streamed totals equal to replay's: {ok} (checked in {waited:.0f} s)")
            wait_port(stack.monitor_port, timeout=60)
            feed = _feed(LATENCY_SEED, 10**9)
            tracker = _Tracker()
            timed_latency(stack, client, tracker, feed, 250, 2)  # the last lifetime's workers have all joined
            time.sleep(5)
            _log(f"latency at {rate}/s for {seconds:.0f} s on the year's state")
            latency = {str(rate): timed_latency(stack, client, tracker, feed, rate, seconds)}
        finally:
            stack.stop()
    finally:
        home.stop()
    return {"events": events, "replay": replay, "services": services, "latency": latency}


def _feed(seed: int, n: int):
    from isf.feed import Feed, FeedConfig

    return Feed(FeedConfig(seed=seed)).events(n)


def _replay(events: int, key: bytes) -> tuple[dict, dict, list]:
    """`isf replay`'s runner over the year written to a file first, on every core; the peak resident memory
    of its largest worker."""
    from isf.replay import Pipeline

    from .. import replay_shards

    workers = os.cpu_count() or 1
    Pipeline(key).run(raw for _k, raw in _feed(101, 200))  # rules loaded before forking
    with tempfile.TemporaryDirectory(prefix="isf-bench-national-") as tmp:
        path = os.path.join(tmp, "year.jsonl")
        written = Progress("bench: writing the year's feed")
        with open(path, "wb") as fh:
            for i, (_k, raw) in enumerate(_feed(SEED, events)):
                fh.write(raw + b"\n")
                if i % 1000 == 0:
                    written.update(i, i / events)
        written.close(events)
        size = os.path.getsize(path)
        t = time.perf_counter()
        counters, rows = replay_shards.run(path, partial(Pipeline, key), workers)
        elapsed = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (
        {
            "events": events,
            "seconds": round(elapsed),
            "events_per_s": round(events / elapsed),
            "workers": workers,
            "input_bytes": size,
            "peak_worker_rss_mib": round(peak / 1024),
        },
        counters,
        rows,
    )


def _stream(redis_url: str, client, events: int, lifetime: int):
    """Send the year's feed through the services, a fresh broker (and the services on it) every `lifetime`
    events, each lifetime drained before its broker stops; returns the figures and the last lifetime's stack,
    still running."""
    from ..runner import Stack

    feed = _feed(SEED, events)
    progress = Progress("bench: the year through the services")
    lifetimes: list[dict] = []
    done = 0
    t0 = time.monotonic()
    stack = None
    try:
        while done < events:
            if stack is not None:
                stack.stop()
            stack = Stack(infra=LocalInfra(redis_url=redis_url)).start()
            lifetimes.append(_lifetime(stack, client, feed, done, min(lifetime, events - done), events, progress))
            done += lifetimes[-1]["events"]
            _log(f"{done} events through the services: {lifetimes[-1]}")
    except BaseException:
        if stack is not None:
            stack.stop()
        raise
    progress.close(done)
    elapsed = time.monotonic() - t0
    return {
        "events": done,
        "seconds": round(elapsed),
        "events_per_s": round(done / elapsed),
        "lifetime_events": lifetime,
        "lifetimes": lifetimes,
        "how": "one worker per service; a fresh local broker every lifetime_events (it keeps every record in "
        "memory), each lifetime drained before its broker stops; seconds include the restarts",
    }, stack


def _lifetime(stack, client, feed, done: int, k: int, events: int, progress: Progress) -> dict:
    """The next `k` events of the feed through the services on one broker, drained; the lifetime's figures."""
    from ..runner import produce

    pids = {**watched_pids(stack), "redis": int(client.info("server")["process_id"])}  # Redis is not the stack's
    cpu0 = {name: _cpu_s(pid) for name, pid in pids.items()}
    usec0 = redis_usec(client)
    started = time.monotonic()
    produce(
        stack.infra.bootstrap,
        itertools.islice(feed, k),
        on_progress=lambda n: progress.update(done + n, (done + n) / events),
    )
    _moved, drained = _wait_quiet(client, done + k, timeout=1800, quiet=5.0, stack=stack)
    if not drained:
        raise RuntimeError(f"the services did not drain {done + k} events in 1800 s")
    took = time.monotonic() - started
    return {
        "events": k,
        "seconds": round(took),
        "events_per_s": round(k / took),
        "cpu_us_per_event": cpu_us_per_event(cpu0, pids, k)["all"],
        "redis_us_per_event": round((redis_usec(client) - usec0) / k),
        "redis_used_memory_mib": round(client.info("memory")["used_memory"] / 2**20),
        "rss_mib_at_end": {name: round(_rss_kib(pid) / 1024) for name, pid in pids.items()},
    }
