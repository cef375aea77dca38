"""The services on the local broker and Redis: throughput of a flood against raw aiokafka, memory under
backpressure, and latency at fixed rates."""

from __future__ import annotations

import threading
import time

from services.common.redis import read_processed

from .chain import bench_raw_chain
from .common import NATIONAL_YEAR_EVENTS, _cpu_s, _log, _ratio, _rss_kib, cpu_us_per_event, redis_usec, watched_pids
from .latency import _Tracker, timed_latency
from .raw import bench_raw_aiokafka


def bench_streaming(n_flood: int, rates: tuple[int, ...], seconds: float) -> dict:
    import redis

    from isf.feed import Feed, FeedConfig

    from ..run import expected_state, wait_converged
    from ..runner import Stack, produce

    feed = Feed(FeedConfig(seed=104)).events(10**9)
    tracker = _Tracker()
    out: dict = {}
    with Stack() as stack:
        client = redis.Redis.from_url(stack.infra.redis_url)
        _log("stack up; warming up")
        warm = [next(feed) for _ in range(500)]
        for _k, raw in warm:
            tracker.handle(raw)
        produce(stack.infra.bootstrap, warm)
        ok, _got, _w = wait_converged(client, expected_state(tracker.pipe), timeout=120)
        if not ok:
            raise RuntimeError("warm-up did not converge")
        pids = {name: procs[0].pid for name, procs in stack.workers.items()}
        idle = {name: _rss_kib(pid) for name, pid in pids.items()}

        # throughput and backpressure: a flood far above the processing rate
        flood = [next(feed) for _ in range(n_flood)]
        for _k, raw in flood:
            tracker.handle(raw)
        peak = dict(idle)
        lag_peak = [0]
        done = threading.Event()

        def sample():
            while not done.is_set():
                for name, pid in pids.items():
                    peak[name] = max(peak[name], _rss_kib(pid))
                proc = read_processed(client)
                lag_peak[0] = max(lag_peak[0], len(warm) + sent[0] - proc.get("ingest", 0))
                time.sleep(0.25)

        sent = [0]
        sampler = threading.Thread(target=sample, daemon=True)
        _log(f"flood of {n_flood} events")
        cpu_pids = watched_pids(stack)
        cpu0 = {name: _cpu_s(pid) for name, pid in cpu_pids.items()}
        usec0 = redis_usec(client)
        t0 = time.monotonic()
        sampler.start()
        produce(stack.infra.bootstrap, flood, on_progress=lambda k: sent.__setitem__(0, k))
        sent[0] = n_flood
        ok, _got, _w = wait_converged(client, expected_state(tracker.pipe), timeout=max(600, n_flood / 100))
        elapsed = time.monotonic() - t0
        done.set()
        sampler.join()
        rate = n_flood / elapsed
        cpu = cpu_us_per_event(cpu0, cpu_pids, n_flood)
        redis_us = (redis_usec(client) - usec0) / n_flood
        _log(f"pipeline {rate:.0f} events/s (converged={ok}); raw aiokafka baseline")
        raw_rate = bench_raw_aiokafka(stack.infra.bootstrap, [raw for _k, raw in flood])
        _log("raw chain baseline")
        broker = stack.infra.broker_proc.pid if stack.infra.broker_proc else None
        chain = bench_raw_chain(stack.infra.bootstrap, [raw for _k, raw in flood], broker_pid=broker)
        out["pipeline"] = {
            "value": round(rate),
            "unit": "events/s feed to settled totals",
            "events": n_flood,
            "converged_with_replay": ok,
            "cpu_us_per_event": {
                **cpu,
                "note": "CPU time of each process over the flood per event; `all`: every service worker, the "
                "broker and redis-server (the bench process, which also replays every event to know the expected "
                "totals, is left out)",
            },
            "redis_us_per_event": {
                "value": round(redis_us),
                "how": "INFO commandstats over the flood: the scripts' time (with the commands they run) and the "
                "commands no script runs, per event",
            },
            "baseline": {
                "raw_aiokafka_consume_transform_produce": {"value": round(raw_rate), "ratio": _ratio(rate, raw_rate)},
                "raw_chain": {
                    **chain,
                    "ratio": _ratio(rate, chain["value"]),
                    "what": "the services' hops, topics and micro-batches as plain aiokafka processes, JSON decoded "
                    "and encoded at each hop, no domain work (bench/chain.py)",
                },
            },
            "national_year_s": {
                "value": round(elapsed if n_flood >= NATIONAL_YEAR_EVENTS else NATIONAL_YEAR_EVENTS / rate),
                "extrapolated": n_flood < NATIONAL_YEAR_EVENTS,
                "note": f"12 million events at the rate measured over {n_flood}, one worker per service",
            },
        }
        out["backpressure_memory"] = {
            "unit": "KiB resident per worker",
            "peak_consumer_lag_events": lag_peak[0],
            "services": {
                name: {"idle": idle[name], "peak_during_flood": peak[name], "ratio": _ratio(peak[name], idle[name])}
                for name in pids
            },
        }
        out["latency"] = {}
        time.sleep(5)  # let the baseline's load die down before timing single events
        for rate_target in rates:
            _log(f"latency at {rate_target}/s for {seconds:.0f} s")
            out["latency"][str(rate_target)] = timed_latency(stack, client, tracker, feed, rate_target, seconds)
        _log("draining")
        ok, _got, _w = wait_converged(client, expected_state(tracker.pipe), timeout=300)
        out["latency"]["converged_with_replay"] = ok
    return out
