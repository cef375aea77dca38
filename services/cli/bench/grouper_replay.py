"""The grouper against a dict lookup loop and drgpy, and `isf replay` / `isf redistribute` against one process."""

from __future__ import annotations

import os
import random
import time

from .common import NATIONAL_YEAR_EVENTS, _activities, _distinct_activities, _per_cpu_second, _ratio


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

    from .. import replay_shards

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
