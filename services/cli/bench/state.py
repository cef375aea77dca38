"""The services on a grown state: Redis preloaded with the state of many events (`preload`), then a flood
(CPU and Redis's own time per event, beside the fresh state's) and the 1 000/s latency phase on top."""

from __future__ import annotations

import itertools
import time

from services.common import names
from services.common.infra import LocalInfra, wait_port
from services.common.redis import read_processed

from .common import _cpu_s, _log, cpu_us_per_event, redis_usec, watched_pids
from .latency import _Tracker, timed_latency
from .preload import preload

STAGES = ("ingest", "grouper", "aggregator", "indicators", "settlement")


class _Started(LocalInfra):
    """Local infrastructure started before the stack (so Redis can be filled before any worker runs): the
    stack's own start finds it running."""

    def start(self) -> "_Started":
        if not self.bootstrap:
            super().start()
        return self


def _progress(client) -> tuple[dict[str, int], bytes | None]:
    """Every stage's processed count and settlement's sequence number (it moves whenever a call summed
    something)."""
    return read_processed(client), client.get(names.SETTLE_SEQ)


def _wait_quiet(client, ingested: int, timeout: float, quiet: float = 3.0, stack=None) -> tuple[float, bool]:
    """Wait until ingest has taken `ingested` events and neither a stage's count (the workers flush theirs
    once a second) nor settlement's sequence number has moved for `quiet` seconds; with a `stack`, restart any
    worker that exited meanwhile. Returns when they last moved (monotonic) and whether they went quiet in time."""
    last, moved = _progress(client), time.monotonic()
    deadline = moved + timeout
    while time.monotonic() < deadline:
        if stack is not None:
            stack.supervise()
        time.sleep(0.25)
        now = _progress(client)
        if now != last:
            last, moved = now, time.monotonic()
        elif now[0].get("ingest", 0) >= ingested and time.monotonic() - moved > quiet:
            return moved, True
    return moved, False


def bench_on_state(events: int, n_flood: int, rate: int, seconds: float) -> dict:
    """Preload `events` events, start the services on that Redis, then a flood of `n_flood` and `rate`/s for
    `seconds`. The bench's tracker knows only the events sent after the preload: an event whose batches the
    grown state judges otherwise (a correction of a preloaded source) is counted as never settled."""
    import redis

    from isf.feed import Feed, FeedConfig
    from isf.pseudonym import DEMO_KEY

    from ..runner import Stack, produce

    feed = Feed(FeedConfig(seed=105)).events(10**9)
    infra = _Started().start()
    try:
        _log(f"preloading the state of {events} events")
        client = redis.Redis.from_url(infra.redis_url)
        empty = client.info("memory")["used_memory"]
        loaded = preload(infra.redis_url, (raw for _k, raw in itertools.islice(feed, events)), events, DEMO_KEY)
        loaded["redis_used_memory"] = client.info("memory")["used_memory"]
        loaded["redis_bytes_per_event"] = round((loaded["redis_used_memory"] - empty) / max(1, loaded["events"]))
        _log(f"preloaded at {loaded['events_per_s']} events/s")
    except BaseException:
        infra.stop()
        raise
    tracker = _Tracker()
    out: dict = {"preload": loaded}
    with Stack(infra=infra) as stack:
        _log("stack up on the preloaded state; warming up")
        wait_port(stack.monitor_port, timeout=60)  # the latency phase follows the dashboard's stream
        timed_latency(stack, client, tracker, feed, 250, 2)  # 500 events: every worker has joined and run
        flood = [next(feed) for _ in range(n_flood)]
        for _k, raw in flood:
            tracker.handle(raw)
        pids = watched_pids(stack)
        before = read_processed(client).get("ingest", 0)
        cpu0 = {name: _cpu_s(pid) for name, pid in pids.items()}
        usec0 = redis_usec(client)
        _log(f"flood of {n_flood} events on the preloaded state")
        t0 = time.monotonic()
        produce(stack.infra.bootstrap, flood)
        ended, _quiet = _wait_quiet(client, before + n_flood, timeout=max(600, n_flood / 100))
        out["flood"] = {
            "events": n_flood,
            "events_per_s": round(n_flood / max(ended - t0, 1e-9)),
            "cpu_us_per_event": cpu_us_per_event(cpu0, pids, n_flood),
            "redis_us_per_event": round((redis_usec(client) - usec0) / n_flood),
            "how": "timed until every stage's processed count stopped moving (the bench cannot replay the "
            "preloaded events to know the totals); CPU and Redis time as in the fresh flood",
        }
        time.sleep(5)
        _log(f"latency at {rate}/s for {seconds:.0f} s on the preloaded state")
        out["latency"] = {str(rate): timed_latency(stack, client, tracker, feed, rate, seconds)}
    return out
