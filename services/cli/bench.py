"""`isf bench`: every performance figure with a baseline measured in the same run, as one JSON document.

Figures (each `{"value", "unit", "baseline": {name: {"value", "ratio"}}}`, ratio = value / baseline):
- grouper: episodes per CPU-second through `group_activity` on distinct cases, against a plain dict
  lookup loop over the same activities and against drgpy (MS-DRG in pure Python) on synthetic US
  cases, with the DRG step alone and the realistic feed beside it;
- replay: events/s through `isf replay` on every core (against one process) and through `isf redistribute`,
  and the national year (12 million events) extrapolated unless measured;
- redis_memory: bytes per tracked patient-period, against the same patient-periods as bare set members;
- pipeline: events/s from feed to settled totals on the local broker and Redis, against raw aiokafka
  consume-transform-produce on the same broker, with peak memory per service while a flood of
  events waits in the topics (backpressure), and the national year extrapolated;
- latency: p50/p99 from sending an event to its points being in the settled totals the dashboard
  reads, at fixed rates of 500/s and 800/s (the nation averages about 0.4 events/s: these are load tests).
Absolute numbers vary between machines and runs; compare the ratios.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from services.common import names

NATIONAL_YEAR_EVENTS = 12_000_000
POLL_AT_MOST = 500  # pending batch ids the latency poller asks Redis about per round (every 50 ms)
STUCK_S = 30.0  # pending longer than this: asked about once a second


def _ratio(value: float, baseline: float) -> float:
    return round(value / baseline, 4) if baseline else float("nan")


def _log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def machine() -> dict:
    try:
        model = next(
            (line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), ""
        )
    except OSError:
        model = ""
    return {
        "cpus": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
    }


def _activities(n: int, seed: int):
    """Episodes of the synthetic feed: realistic, so codes repeat (ages and dates rarely do)."""
    from isf.feed import Feed, FeedConfig
    from isf.ingest import Rejected, parse, to_activity

    out = []
    for _k, raw in Feed(FeedConfig(seed=seed, invalid=0, deletes=0)).events(n):
        e = parse(raw, b"bench")
        if not isinstance(e, Rejected):
            a = to_activity(e, b"bench")
            if a.end is not None:
                out.append(a)
    return out


def _distinct_activities(n: int, seed: int) -> list:
    """Episodes made of random codes of the rule years' own tables (as drgpy's baseline draws from its
    own maps), with no two alike as the grouper sees them: no case string repeats."""
    from datetime import datetime, timedelta

    from isf.events import Activity
    from isf.grouping.mapping import to_case
    from isf.rules import YEARS, rule_year

    rng = random.Random(seed)
    codes = {y: (sorted(rule_year(y).definitions.dg), sorted(rule_year(y).definitions.proc)) for y in YEARS}
    seen: set = set()
    out: list[Activity] = []
    while len(out) < n:
        year = rng.choice(YEARS)
        dx, pr = codes[year]
        care = rng.choice(("inpatient", "day", "outpatient"))
        start = datetime(year, 1, 1, 7) + timedelta(minutes=rng.randrange(0, 320 * 24 * 60))
        stay = timedelta(
            days=rng.choice((0, 1, 2, 3, 4, 6, 9, 14, 30)) if care == "inpatient" else 0, hours=rng.randrange(1, 10)
        )
        a = Activity(
            source_id=f"E:bench:{len(out)}",
            kind="episode",
            version=1,
            hf="bench",
            rhf="bench",
            patient="bench",
            age_days=rng.randrange(0, 100 * 365),
            sex=rng.choice("MF"),
            sector=rng.choice(("somatic", "somatic", "phv", "tsb")),
            care_level=care,
            start=start,
            end=start + stay,
            main_condition=rng.choice(dx),
            secondary_conditions=tuple(rng.choice(dx) for _ in range(rng.randint(0, 5))),
            procedures=tuple(rng.choice(pr) for _ in range(rng.choice((0, 0, 1, 2)))),
            urgency=rng.choice(("planned", "acute")),
        )
        case = to_case(a)
        if case not in seen:
            seen.add(case)
            out.append(a)
    return out


def _per_cpu_second(runs: dict, rounds: int = 3) -> dict:
    """Items per second of this process's CPU time (one core; other processes on the machine do not
    count), best of `rounds` passes, the passes of every run interleaved so that they share conditions."""
    best = {name: 0.0 for name in runs}
    for _ in range(rounds):
        for name, (fn, items) in runs.items():
            t = time.process_time()
            for x in items:
                fn(x)
            best[name] = max(best[name], len(items) / max(time.process_time() - t, 1e-9))
    return best


def bench_grouper(n: int) -> dict:
    from isf.grouping.activity import group_activity
    from isf.grouping.engine import group_case
    from isf.grouping.mapping import to_case
    from isf.rules import rule_year

    distinct, feed = _distinct_activities(n, seed=101), _activities(n, seed=101)
    for a in distinct[:200] + feed[:200]:
        group_activity(a)  # load and compile the rule years outside the timing
    definitions = {y: rule_year(y).definitions for y in {a.end.year for a in distinct}}

    def drg_step(a):
        return group_case(definitions[a.end.year], to_case(a), explain=False)

    # the floor: one dict lookup per code of each activity, nothing else
    codes = {c for a in distinct for c in (a.main_condition, *a.procedures, *a.secondary_conditions)}
    table = {c: i for i, c in enumerate(codes)}

    def lookups(a):
        table.get(a.main_condition)
        for c in a.procedures:
            table.get(c)
        for c in a.secondary_conditions:
            table.get(c)

    runs = {
        "grouper": (group_activity, distinct),
        "drg_step": (drg_step, distinct),
        "feed": (group_activity, feed),
        "dict_lookup_loop": (lookups, distinct),
    }
    try:
        drgpy, drgpy_cases = _drgpy_cases(min(n, 5000))
        runs["drgpy"] = (lambda c: drgpy.get_drg(*c), drgpy_cases)
    except ImportError:
        drgpy_cases = None
    rate = _per_cpu_second(runs)
    engine = rate["grouper"]
    out = {
        "value": round(engine),
        "unit": "episodes/s/core",
        "episodes": len(distinct),
        "cases": "distinct: random codes from the 2025/2026 tables, no case string twice",
        "baseline": {
            "dict_lookup_loop": {
                "value": round(rate["dict_lookup_loop"]),
                "ratio": _ratio(engine, rate["dict_lookup_loop"]),
            }
        },
        "drg_step": {
            "value": round(rate["drg_step"]),
            "what": "to_case + group_case: the DRG alone, as drgpy gives it (no points, STG or result model)",
        },
        "realistic_feed": {
            "value": round(rate["feed"]),
            "episodes": len(feed),
            "distinct_case_strings": len({to_case(a) for a in feed}),
            "what": "group_activity over the synthetic feed's episodes (codes repeat)",
        },
        "method": "per CPU-second of the bench process, best of 3 interleaved passes; the engine keeps "
        "no memo of results (definitions are compiled once per rule year)",
    }
    if drgpy_cases is None:
        out["baseline"]["drgpy_msdrg"] = {"value": None, "note": "drgpy not installed (pip install drgpy)"}
        out["grouper_ratio_vs_drgpy"] = None
        return out
    d = rate["drgpy"]
    out["baseline"]["drgpy_msdrg"] = {
        "value": round(d),
        "cases": len(drgpy_cases),
        "ratio": _ratio(engine, d),
        "note": "MS-DRG v43.1 (US), synthetic cases: random ICD-10-CM diagnoses and ICD-10-PCS procedures",
    }
    out["drg_step"]["ratio_vs_drgpy"] = _ratio(rate["drg_step"], d)
    out["realistic_feed"]["ratio_vs_drgpy"] = _ratio(rate["feed"], d)
    out["grouper_ratio_vs_drgpy"] = _ratio(engine, d)
    return out


def _drgpy_cases(n: int):
    from drgpy.msdrg import DRGEngine

    engine = DRGEngine()
    rng = random.Random(7)
    dx, pr = sorted(engine.dxmap), sorted(engine.prmap)
    cases = [
        (
            [rng.choice(dx) for _ in range(rng.randint(1, 6))],
            [rng.choice(pr) for _ in range(rng.choice((0, 0, 1, 2)))],
            rng.choice("FM"),
        )
        for _ in range(n)
    ]
    for c in cases[:50]:
        engine.get_drg(*c)
    return engine, cases


def bench_replay(n: int, baseline_n: int = 100_000) -> dict:
    """`isf replay` and `isf redistribute` over n feed events written to a file first (generating the feed is
    not the replay's work), on every core, against the same runner in one process over the first
    `baseline_n` of them."""
    import tempfile
    from functools import partial

    from isf.feed import Feed, FeedConfig
    from isf.replay import Pipeline
    from isf.settlement.redistribution import pipelines
    from services.common.progress import Progress

    from . import replay_shards

    workers = os.cpu_count() or 1
    Pipeline(b"bench").run(raw for _k, raw in Feed(FeedConfig(seed=101)).events(200))  # rules loaded before forking
    with tempfile.TemporaryDirectory(prefix="isf-bench-replay-") as tmp:
        path, first = os.path.join(tmp, "feed.jsonl"), os.path.join(tmp, "first.jsonl")
        written = Progress("bench: writing the feed")
        with open(path, "wb") as fh, open(first, "wb") as head:
            for i, (_k, raw) in enumerate(Feed(FeedConfig(seed=102)).events(n)):
                fh.write(raw + b"\n")
                if i < baseline_n:
                    head.write(raw + b"\n")
                if i % 1000 == 0:
                    written.update(i, i / n)
        written.close(n)

        def rate(file: str, make, w: int, events: int) -> tuple[float, float]:
            t = time.perf_counter()
            replay_shards.run(file, make, w)
            elapsed = time.perf_counter() - t
            return events / elapsed, elapsed

        one, _ = rate(first, partial(Pipeline, b"bench"), 1, min(n, baseline_n))
        every, elapsed = rate(path, partial(Pipeline, b"bench"), workers, n)
        redistribute, redistribute_s = rate(path, pipelines(b"bench", 2025, 2026)[0], workers, n)
    measured = n >= NATIONAL_YEAR_EVENTS

    def national(r: float, s: float) -> dict:
        return {
            "value": round(s if measured else NATIONAL_YEAR_EVENTS / r),
            "extrapolated": not measured,
            "note": f"12 million events at the rate measured over {n} ({workers} processes)",
        }

    return {
        "value": round(every),
        "unit": "events/s",
        "events": n,
        "workers": workers,
        "baseline": {"one_process": {"value": round(one), "ratio": _ratio(every, one), "events": min(n, baseline_n)}},
        "national_year_s": national(every, elapsed),
        "redistribute": {
            "value": round(redistribute),
            "unit": "events/s",
            "national_year_s": national(redistribute, redistribute_s),
        },
    }


def bench_redis_memory(redis_url: str, n: int) -> dict:
    """Fill an empty Redis through the ledger script, then the same patient-periods as bare set members."""
    import redis
    import redis.asyncio as aredis

    from isf.feed import Feed, FeedConfig
    from services.common.config import settings
    from services.common.redis import RedisStore
    from services.common.scripted import apply_events

    client = redis.Redis.from_url(redis_url)
    client.flushall()
    base = client.info("memory")["used_memory"]
    events = [raw for _k, raw in Feed(FeedConfig(seed=103)).events(n)]

    store = RedisStore(
        aredis.from_url(redis_url), event_ttl=settings().isf_event_ttl, retain_years=settings().isf_retain_years
    )
    asyncio.run(apply_events(store, events, b"bench"))
    used = client.info("memory")["used_memory"] - base
    # the ledgers: one msgpack document per patient (read as JSON through Redis' own Lua); its patient-periods
    # are the distinct units its records name
    unit_keys: list[str] = []
    sources = members = ledger_bytes = 0
    as_json = client.register_script(Path(__file__).with_name("ledger_as_json.lua").read_text())
    for key in client.scan_iter(match="isf:{*}:L:*", count=5000):
        doc = json.loads(as_json(keys=[key]))
        units: set[str] = set()
        for rec in doc["s"].values():
            sources += 1
            u = rec[3]
            units.update(f"{doc['t'][u[j] - 1]}|{doc['t'][u[j + 1] - 1]}" for j in range(0, len(u), 6))
            members += len(u) // 6
        unit_keys += [f"{key.decode()}:{u}" for u in units]
        ledger_bytes += client.memory_usage(key) or 0
    # baseline: each patient-period as one member of one plain set (the least Redis can hold)
    client.delete("bench:bare")
    b0 = client.info("memory")["used_memory"]
    for i in range(0, len(unit_keys), 1000):
        client.sadd("bench:bare", *unit_keys[i : i + 1000])
    bare = (client.info("memory")["used_memory"] - b0) / max(1, len(unit_keys))
    client.flushall()
    # every byte of the ledgers (sources' items and revisions too) over the patient-periods: an upper bound
    per = ledger_bytes / max(1, len(unit_keys))
    return {
        "value": round(per),
        "unit": "ledger bytes per tracked patient-period (all of the patients' ledger documents)",
        "patient_periods": len(unit_keys),
        "memberships": members,
        "sources": sources,
        "events": n,
        "ledger_bytes_per_event": round(ledger_bytes / n),
        "all_state_bytes_per_event": round(used / n),
        "all_state_bytes": used,
        "baseline": {"bare_set_member": {"value": round(bare), "ratio": _ratio(per, bare)}},
    }


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_kib(pid: int) -> int:
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def bench_raw_aiokafka(bootstrap: str, values: list[bytes]) -> float:
    """Consume -> json loads/dumps -> produce with plain aiokafka on the same broker: the ceiling."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    from services.common.infra import create_topics

    create_topics(bootstrap, names=("bench.raw-in", "bench.raw-out"))

    async def go() -> float:
        prod = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=262144)
        await prod.start()
        try:
            for i, v in enumerate(values):
                await prod.send("bench.raw-in", v, key=str(i).encode())
            await prod.flush()
            cons = AIOKafkaConsumer(
                "bench.raw-in",
                bootstrap_servers=bootstrap,
                group_id="bench-raw",
                auto_offset_reset="earliest",
                enable_auto_commit=True,
            )
            await cons.start()
            try:
                n, t = 0, None
                while n < len(values):
                    batch = await cons.getmany(timeout_ms=1000, max_records=2000)
                    for records in batch.values():
                        if t is None:
                            t = time.perf_counter()
                        for r in records:
                            try:
                                v = json.dumps(json.loads(r.value)).encode()
                            except ValueError:
                                v = r.value  # the feed's deliberately invalid events
                            await prod.send("bench.raw-out", v, key=r.key)
                            n += 1
                await prod.flush()
                assert t is not None, "a record arrived: values is not empty"
                return n / (time.perf_counter() - t)
            finally:
                await cons.stop()
        finally:
            await prod.stop()

    return asyncio.run(go())


class _Tracker:
    """Replays what is sent, so the bench knows which delta batches each sent event must produce."""

    def __init__(self):
        from isf.pseudonym import DEMO_KEY
        from isf.replay import Pipeline

        self.new: list[str] = []
        self.pipe = Pipeline(DEMO_KEY, on_batch=lambda b: self.new.append(b.id))

    def handle(self, raw: bytes) -> list[str]:
        self.new = []
        self.pipe.handle(raw)
        return self.new


def bench_streaming(n_flood: int, rates: tuple[int, ...], seconds: float) -> dict:
    import redis

    from isf.feed import Feed, FeedConfig

    from .run import expected_state, wait_converged
    from .runner import Stack, produce

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
                proc = {
                    k.decode(): int(v)  # type: ignore[union-attr]  # stubs allow str keys; this client returns bytes
                    for k, v in client.hgetall(names.STATS_PROCESSED).items()
                }
                lag_peak[0] = max(lag_peak[0], len(warm) + sent[0] - proc.get("ingest", 0))
                time.sleep(0.25)

        sent = [0]
        sampler = threading.Thread(target=sample, daemon=True)
        _log(f"flood of {n_flood} events")
        watched: dict[str, int | subprocess.Popen | None] = {
            **pids,
            "broker": stack.infra.broker_proc,
            "redis": stack.infra.redis_proc,
            "bench (feed)": os.getpid(),
        }
        cpu_pids = {k: (v if isinstance(v, int) else v.pid) for k, v in watched.items() if v is not None}
        cpu0 = {name: _cpu_s(pid) for name, pid in cpu_pids.items()}
        t0 = time.monotonic()
        sampler.start()
        produce(stack.infra.bootstrap, flood, on_progress=lambda k: sent.__setitem__(0, k))
        sent[0] = n_flood
        ok, _got, _w = wait_converged(client, expected_state(tracker.pipe), timeout=max(600, n_flood / 100))
        elapsed = time.monotonic() - t0
        done.set()
        sampler.join()
        rate = n_flood / elapsed
        cpu = {name: round((_cpu_s(pid) - cpu0[name]) / n_flood * 1e6) for name, pid in cpu_pids.items()}
        _log(f"pipeline {rate:.0f} events/s (converged={ok}); raw aiokafka baseline")
        raw_rate = bench_raw_aiokafka(stack.infra.bootstrap, [raw for _k, raw in flood])
        out["pipeline"] = {
            "value": round(rate),
            "unit": "events/s feed to settled totals",
            "events": n_flood,
            "converged_with_replay": ok,
            "cpu_us_per_event": {
                **cpu,
                "note": "CPU time of each process over the flood per event (the bench process also replays "
                "every event to know the expected totals, outside the services' work)",
            },
            "baseline": {
                "raw_aiokafka_consume_transform_produce": {"value": round(raw_rate), "ratio": _ratio(rate, raw_rate)}
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
            cpu0 = {name: _cpu_s(pid) for name, pid in cpu_pids.items()}
            t0 = time.monotonic()
            lat = out["latency"][str(rate_target)] = _latency(stack, client, tracker, feed, rate_target, seconds)
            busy = {name: _cpu_s(pid) - cpu0[name] for name, pid in cpu_pids.items()}
            lat["cpu_us_per_event"] = {name: round(v / lat["events"] * 1e6) for name, v in busy.items()}
            lat["cpu_busy_of_2_cores"] = round(sum(busy.values()) / (time.monotonic() - t0) / (os.cpu_count() or 1), 3)
        _log("draining")
        ok, _got, _w = wait_converged(client, expected_state(tracker.pipe), timeout=300)
        out["latency"]["converged_with_replay"] = ok
    return out


class _Dashboard(threading.Thread):
    """Follows the monitor's event stream as the dashboard page does: on each pushed view it reads
    `/api/summary` and notes (the view's generated_at, when the answer was in hand), wall clock."""

    def __init__(self, base: str, token: str):
        super().__init__(daemon=True)
        self.base, self.token = base, token
        self.shown: list[tuple[float, float]] = []
        self.stop = threading.Event()
        self.since = time.time()  # the view sent on connecting may be older: it is current until totals move

    def run(self) -> None:
        import urllib.request

        headers = {"Authorization": f"Bearer {self.token}"}
        req = urllib.request.Request(f"{self.base}/api/events", headers=headers)
        with urllib.request.urlopen(req, timeout=30) as stream:
            for line in stream:
                if self.stop.is_set():
                    return
                if line.startswith(b"data: "):
                    at = json.loads(line[6:])["generated_at"]
                    with urllib.request.urlopen(urllib.request.Request(f"{self.base}/api/summary", headers=headers)):
                        pass
                    self.shown.append((at, time.time()))

    def trail(self, sent: float, settled: float) -> float | None:
        """Seconds from sending an event to the page holding the first view read after it settled."""
        for at, done in self.shown:
            if at >= settled:
                return done - sent
        return None


def _latency(stack, client, tracker: _Tracker, feed, rate: int, seconds: float) -> dict:
    """Send at a fixed rate; for each event that produces settled deltas, time until all its batch ids are in
    an applied table (`isf:{totals}:batches:<year>`), i.e. until the dashboard's totals include it."""
    from services.common.redis import applied_digest, read_applied

    from .runner import produce

    pending: dict[str, tuple[float, int, bytes]] = {}  # batch id -> (sent at, event index, its applied digest)
    remaining: dict[int, int] = {}
    sent_at: dict[int, float] = {}
    lock = threading.Lock()
    count = int(rate * seconds)
    stop = threading.Event()

    # the replay that says which batches each event must produce runs before the clock starts,
    # so the sender does nothing but send at the target rate
    planned = []
    for _ in range(count):
        key, raw = next(feed)
        planned.append((key, raw, [(b, applied_digest(b)) for b in tracker.handle(raw)]))

    def events():
        for i, (key, raw, ids) in enumerate(planned):
            now = time.monotonic()
            with lock:
                if ids:
                    sent_at[i] = now
                    remaining[i] = len(ids)
                    for b, digest in ids:
                        pending[b] = (now, i, digest)
            yield key, raw

    wall = time.time() - time.monotonic()  # monotonic + wall = the clock the view's generated_at is on
    settled: list[tuple[float, float]] = []  # (sent, settled) per measured event, monotonic
    page = _Dashboard(f"http://127.0.0.1:{stack.monitor_port}", stack.tokens["national"])
    page.start()

    def poll():
        last_stuck = 0.0
        while not (stop.is_set() and not pending):
            # Asking Redis about every pending batch 20 times a second loads the machine under test as much as
            # the load does once thousands are pending: ask about the oldest POLL_AT_MOST (batches settle
            # roughly in send order; a later one found late only makes its latency look longer), and about
            # those pending over STUCK_S (most are versions overtaken in flight) once a second; in one script
            # call with digests made before the clock started (a pipeline of a command per id cost the bench
            # process more CPU than any service).
            now = time.monotonic()
            stuck_round = now - last_stuck > 1.0
            last_stuck = now if stuck_round else last_stuck
            with lock:
                due = (b for b, (t, _i, _d) in pending.items() if stuck_round or now - t < STUCK_S)
                ids = list(itertools.islice(due, POLL_AT_MOST))
                digests = [pending[b][2] for b in ids]
            if ids:
                found = read_applied(client, ids, digests)
                now = time.monotonic()
                with lock:
                    for b, hit in zip(ids, found):
                        if hit:
                            _t, i, _d = pending.pop(b)
                            remaining[i] -= 1
                            if remaining[i] == 0:
                                settled.append((sent_at.pop(i), now))
                    if any(found):
                        progress[0] = now
            time.sleep(0.05)
            # a batch of a version that a newer one overtook is never settled (the ledger skips
            # outdated versions): stop waiting once nothing has settled for 10 s
            if stop.is_set() and time.monotonic() - max(progress[0], stopped[0]) > 10:
                return

    stopped = [0.0]
    progress = [0.0]
    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    t0 = time.monotonic()
    produce(stack.infra.bootstrap, events(), rate=rate)
    achieved = count / (time.monotonic() - t0)
    stopped[0] = time.monotonic()
    stop.set()
    poller.join()
    last = max((b for _a, b in settled), default=0.0) + wall
    deadline = time.monotonic() + 10  # until the page has shown a view read after the last event settled
    while not (page.shown and page.shown[-1][0] >= last) and time.monotonic() < deadline:
        time.sleep(0.1)
    page.stop.set()
    trail = sorted(t for t in (page.trail(a + wall, b + wall) for a, b in settled) if t is not None)
    lat = sorted(b - a for a, b in settled)

    def quantile(xs: list[float], p: float) -> float | None:
        return round(xs[min(len(xs) - 1, int(p * len(xs)))], 3) if xs else None

    ages = [done - at for at, done in page.shown if at >= page.since]
    return {
        "unit": "s from send to settled totals",
        "target_rate": rate,
        "achieved_send_rate": round(achieved),
        "events": count,
        "measured": len(lat),
        "never_settled": {"batches": len(pending), "why": "versions overtaken by a newer one in flight"},
        "p50": quantile(lat, 0.50),
        "p99": quantile(lat, 0.99),
        "max": lat[-1] if lat else None,
        "mean": round(statistics.fmean(lat), 3) if lat else None,
        "view_age_when_shown_s": {
            "mean": round(statistics.fmean(ages), 3) if ages else None,
            "max": round(max(ages), 3) if ages else None,
            "views": len(ages),
        },
        "dashboard_trail_s": {
            "value": quantile(trail, 0.99),
            "typical": quantile(trail, 0.50),
            "max": trail[-1] if trail else None,
            "events": len(trail),
            "how": "measured: a client follows the monitor's event stream as the page does and reads /api/summary "
            "on each pushed view; per event, from sending it to that answer being in hand for the first view whose "
            "totals were read after the event settled; value p99, typical p50",
        },
    }


def summary(doc: dict) -> dict:
    """The figures outside checks read (CONTRACTS.md), lifted from the run's own sections."""
    lat = doc.get("latency", {}).get("1000", {})
    pipe = doc.get("pipeline", {})
    return {
        "replay_events_per_s": doc["replay"]["value"],
        "national_year_replay_s": doc["replay"]["national_year_s"]["value"],
        "replay_workers": doc["replay"]["workers"],
        "national_year_redistribute_s": doc["replay"]["redistribute"]["national_year_s"]["value"],
        "pipeline_events_per_s": pipe.get("value"),
        "pipeline_ratio_vs_raw": pipe.get("baseline", {})
        .get("raw_aiokafka_consume_transform_produce", {})
        .get("ratio"),
        "national_year_streaming_s": pipe.get("national_year_s", {}).get("value"),
        "national_year_streaming_extrapolated": pipe.get("national_year_s", {}).get("extrapolated"),
        "streaming_events_measured": pipe.get("events"),
        "p99_s_at_1000": lat.get("p99"),
        "dashboard_trail_s_at_1000": lat.get("dashboard_trail_s", {}).get("value"),
        "grouper_ratio_vs_drgpy": doc["grouper"].get("grouper_ratio_vs_drgpy"),
        "redis_bytes_per_event": doc["redis_memory"]["all_state_bytes_per_event"],
        "redis_bytes_per_patient_period_ratio": doc["redis_memory"]["baseline"]["bare_set_member"]["ratio"],
    }


def run(quick: bool = False, out_dir: str | None = None, national: bool = False, events: int | None = None) -> dict:
    """`national`: the replay and the streaming flood over a whole national year (`events`, default 12
    million), measured rather than extrapolated; hours on a 2-core machine."""
    from services.common.infra import LocalInfra

    started = time.time()
    n = 3000 if quick else 20000
    flood = (events or NATIONAL_YEAR_EVENTS) if national else (3000 if quick else 20000)
    doc: dict = {
        "machine": machine(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "quick": quick,
        "national": national,
    }
    _log("grouper engine")
    doc["grouper"] = bench_grouper(n)
    _log("replay")
    doc["replay"] = bench_replay(flood if national else (n if quick else 100_000))  # long enough to time 2 processes
    _log("redis memory")
    with LocalInfra() as infra:
        doc["redis_memory"] = bench_redis_memory(infra.redis_url, n)
    doc.update(bench_streaming(n_flood=flood, rates=(500, 800, 1000), seconds=5 if quick else 30))
    doc["duration_s"] = round(time.time() - started)
    doc["summary"] = summary(doc)
    target = Path(out_dir or Path(__file__).resolve().parents[2] / "bench" / "results")
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{time.strftime('%Y%m%d-%H%M%S')}{'-quick' if quick else ''}{'-national' if national else ''}.json"
    path.write_text(json.dumps(doc, indent=1))
    _log(f"written to {path}")
    return doc
