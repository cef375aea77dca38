"""The run as a whole: every figure in order, the summary outside checks read, the result file."""

from __future__ import annotations

import json
import time
from pathlib import Path

from .common import NATIONAL_YEAR_EVENTS, _log, _ratio, machine
from .grouper_replay import bench_grouper, bench_replay
from .memory import bench_redis_memory
from .state import bench_on_state
from .streaming import bench_streaming

PRELOAD = 1_000_000  # events whose state the grown-state phase starts from
PRELOAD_QUICK = 50_000


def summary(doc: dict) -> dict:
    """The figures outside checks read (CONTRACTS.md), lifted from the run's own sections."""
    lat = doc.get("latency", {}).get("1000", {})
    pipe = doc.get("pipeline", {})
    grown = doc.get("on_state", {})
    grown_lat = grown.get("latency", {}).get("1000", {})
    fresh_us = pipe.get("redis_us_per_event", {}).get("value")
    grown_us = grown.get("flood", {}).get("redis_us_per_event")
    return {
        "replay_events_per_s": doc["replay"]["value"],
        "national_year_replay_s": doc["replay"]["national_year_s"]["value"],
        "replay_workers": doc["replay"]["workers"],
        "national_year_redistribute_s": doc["replay"]["redistribute"]["national_year_s"]["value"],
        "pipeline_events_per_s": pipe.get("value"),
        "pipeline_ratio_vs_raw": pipe.get("baseline", {})
        .get("raw_aiokafka_consume_transform_produce", {})
        .get("ratio"),
        "pipeline_ratio_vs_raw_chain": pipe.get("baseline", {}).get("raw_chain", {}).get("ratio"),
        "cpu_us_per_event": pipe.get("cpu_us_per_event", {}).get("all"),
        "national_year_streaming_s": pipe.get("national_year_s", {}).get("value"),
        "national_year_streaming_extrapolated": pipe.get("national_year_s", {}).get("extrapolated"),
        "streaming_events_measured": pipe.get("events"),
        "p99_s_at_1000": lat.get("p99"),
        "dashboard_trail_s_at_1000": lat.get("dashboard_trail_s", {}).get("value"),
        "grouper_ratio_vs_drgpy": doc["grouper"].get("grouper_ratio_vs_drgpy"),
        "redis_bytes_per_event": doc["redis_memory"]["all_state_bytes_per_event"],
        "redis_bytes_per_patient_period_ratio": doc["redis_memory"]["baseline"]["bare_set_member"]["ratio"],
        "redis_us_per_event_fresh": fresh_us,
        "preloaded_events": grown.get("preload", {}).get("events"),
        "redis_bytes_per_event_on_1m_state": grown.get("preload", {}).get("redis_bytes_per_event"),
        "p99_s_at_1000_on_1m_state": grown_lat.get("p99"),
        "dashboard_trail_s_at_1000_on_1m_state": grown_lat.get("dashboard_trail_s", {}).get("value"),
        "redis_us_per_event_on_1m_state": grown_us,
        "redis_us_per_event_growth": _ratio(grown_us, fresh_us) if fresh_us and grown_us else None,
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
    # the grown state: "1m" in the summary's keys; quick mode preloads less (`preloaded_events` says how many)
    doc["on_state"] = bench_on_state(
        events=PRELOAD_QUICK if quick else PRELOAD,
        n_flood=3000 if quick else 20000,
        rate=1000,
        seconds=5 if quick else 30,
    )
    doc["duration_s"] = round(time.time() - started)
    doc["summary"] = summary(doc)
    target = Path(out_dir or Path(__file__).resolve().parents[3] / "bench" / "results")
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{time.strftime('%Y%m%d-%H%M%S')}{'-quick' if quick else ''}{'-national' if national else ''}.json"
    path.write_text(json.dumps(doc, indent=1))
    _log(f"written to {path}")
    return doc
