"""The run as a whole: every figure in order, the summary outside checks read, the result file."""

from __future__ import annotations

import json
import time
from pathlib import Path

from .common import NATIONAL_YEAR_EVENTS, _log, _ratio, machine
from .grouper_replay import bench_grouper, bench_replay
from .memory import bench_redis_memory
from .national import bench_national
from .state import bench_on_state
from .streaming import bench_streaming

PRELOAD = 1_000_000  # events whose state the grown-state phase starts from
PRELOAD_QUICK = 50_000


def _at(doc: dict, *path: str):
    """The value at `path` in nested dicts, None where a step is missing."""
    at: object = doc
    for step in path:
        if not isinstance(at, dict):
            return None
        at = at.get(step)
    return at


def summary(doc: dict) -> dict:
    """The figures outside checks read (CONTRACTS.md), lifted from the run's own sections; None where the run
    did not take a phase."""
    raw, chain = ("baseline", "raw_aiokafka_consume_transform_produce", "ratio"), ("baseline", "raw_chain", "ratio")
    fresh_us = _at(doc, "pipeline", "redis_us_per_event", "value")
    grown_us = _at(doc, "on_state", "flood", "redis_us_per_event")
    return {
        "replay_events_per_s": _at(doc, "replay", "value"),
        "national_year_replay_s": _at(doc, "replay", "national_year_s", "value"),
        "replay_workers": _at(doc, "replay", "workers"),
        "national_year_redistribute_s": _at(doc, "replay", "redistribute", "national_year_s", "value"),
        "pipeline_events_per_s": _at(doc, "pipeline", "value"),
        "pipeline_ratio_vs_raw": _at(doc, "pipeline", *raw),
        "pipeline_ratio_vs_raw_chain": _at(doc, "pipeline", *chain),
        "cpu_us_per_event": _at(doc, "pipeline", "cpu_us_per_event", "all"),
        "national_year_streaming_s": _at(doc, "pipeline", "national_year_s", "value"),
        "national_year_streaming_extrapolated": _at(doc, "pipeline", "national_year_s", "extrapolated"),
        "streaming_events_measured": _at(doc, "pipeline", "events"),
        "p99_s_at_1000": _at(doc, "latency", "1000", "p99"),
        "dashboard_trail_s_at_1000": _at(doc, "latency", "1000", "dashboard_trail_s", "value"),
        "grouper_ratio_vs_drgpy": _at(doc, "grouper", "grouper_ratio_vs_drgpy"),
        "redis_bytes_per_event": _at(doc, "redis_memory", "all_state_bytes_per_event"),
        "redis_bytes_per_patient_period_ratio": _at(doc, "redis_memory", "baseline", "bare_set_member", "ratio"),
        "redis_us_per_event_fresh": fresh_us,
        "preloaded_events": _at(doc, "on_state", "preload", "events"),
        "redis_bytes_per_event_on_1m_state": _at(doc, "on_state", "preload", "redis_bytes_per_event"),
        "p99_s_at_1000_on_1m_state": _at(doc, "on_state", "latency", "1000", "p99"),
        "dashboard_trail_s_at_1000_on_1m_state": _at(doc, "on_state", "latency", "1000", "dashboard_trail_s", "value"),
        "redis_us_per_event_on_1m_state": grown_us,
        "redis_us_per_event_growth": _ratio(grown_us, fresh_us) if fresh_us and grown_us else None,
    }


def national_summary(doc: dict) -> dict:
    """The summary's keys for a national run: the year's replay, its streaming through the services and the
    latency at 1 000/s on its state; the keys of phases a national run does not take are null."""
    year = doc["national"]
    events, replay, services = year["events"], year["replay"], year["services"]
    lat = year["latency"].get("1000", {})
    measured = events >= NATIONAL_YEAR_EVENTS
    cpu = sum(x["cpu_us_per_event"] * x["events"] for x in services["lifetimes"]) / max(1, services["events"])
    out = summary({})
    out.update(
        replay_events_per_s=replay["events_per_s"],
        national_year_replay_s=replay["seconds"] if measured else round(NATIONAL_YEAR_EVENTS / replay["events_per_s"]),
        replay_workers=replay["workers"],
        pipeline_events_per_s=services["events_per_s"],
        cpu_us_per_event=round(cpu),
        national_year_streaming_s=services["seconds"]
        if measured
        else round(NATIONAL_YEAR_EVENTS / services["events_per_s"]),
        national_year_streaming_extrapolated=not measured,
        streaming_events_measured=services["events"],
        national_year_streams_equal_to_replay=services["equal_to_replay"],
        p99_s_at_1000=lat.get("p99"),
        dashboard_trail_s_at_1000=lat.get("dashboard_trail_s", {}).get("value"),
        redis_bytes_per_event=services["redis_bytes_per_event"],
        redis_used_memory_at_end=services["redis_used_memory"],
    )
    return out


def run(quick: bool = False, out_dir: str | None = None, national: bool = False, events: int | None = None) -> dict:
    """`national`: the replay and the streaming flood over a whole national year (`events`, default 12
    million), measured rather than extrapolated; hours on a 2-core machine."""
    from services.common.infra import LocalInfra

    started = time.time()
    n = 3000 if quick else 20000
    doc: dict = {
        "machine": machine(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "quick": quick,
        "national": national,
    }
    if national:
        doc["national"] = bench_national(events or NATIONAL_YEAR_EVENTS)
        return _written(doc, started, national_summary(doc), out_dir, "-national")
    _log("grouper engine")
    doc["grouper"] = bench_grouper(n)
    _log("replay")
    doc["replay"] = bench_replay(n if quick else 100_000)  # long enough to time 2 processes
    _log("redis memory")
    with LocalInfra() as infra:
        doc["redis_memory"] = bench_redis_memory(infra.redis_url, n)
    doc.update(bench_streaming(n_flood=n, rates=(500, 800, 1000), seconds=5 if quick else 30))
    # the grown state: "1m" in the summary's keys; quick mode preloads less (`preloaded_events` says how many)
    doc["on_state"] = bench_on_state(
        events=PRELOAD_QUICK if quick else PRELOAD,
        n_flood=3000 if quick else 20000,
        rate=1000,
        seconds=5 if quick else 30,
    )
    return _written(doc, started, summary(doc), out_dir, "-quick" if quick else "")


def _written(doc: dict, started: float, keys: dict, out_dir: str | None, suffix: str) -> dict:
    """The run's document with its duration and summary, written to bench/results (or `out_dir`)."""
    doc["duration_s"] = round(time.time() - started)
    doc["summary"] = keys
    target = Path(out_dir or Path(__file__).resolve().parents[3] / "bench" / "results")
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{time.strftime('%Y%m%d-%H%M%S')}{suffix}.json"
    path.write_text(json.dumps(doc, indent=1))
    _log(f"written to {path}")
    return doc
