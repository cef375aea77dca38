"""The `isf` command: run, group, explain, replay, coding, redrive, feed, calibrate, weights, conformance,
definitions, bench, and the commands about money (statement, rbf, redistribute, nki: `services.cli.settlement`).

JSON (lines) in and out unless a format is asked for."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from . import settlement
from .files import emit, lines, replay_file, workers_option

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "shared" / "schemas"


def cmd_group(args) -> int:
    from isf.grouping.activity import group_activity
    from isf.ingest import Rejected, parse, to_activity
    from isf.pseudonym import DEMO_KEY

    bad = 0
    for raw in lines(args.file):
        e = parse(raw, DEMO_KEY)
        if isinstance(e, Rejected):
            bad += 1
            emit({"error": e.errors})
            continue
        g = group_activity(to_activity(e, DEMO_KEY), year=args.year, explain=True)
        emit(
            {
                "episode_id": getattr(e, "episode_id", None) or getattr(e, "prescription_id", None),
                "drg": g.drg,
                "hdg": g.mdc,
                "rtc": g.rtc,
                "points": str(g.drg_points),
                "stg": g.stg,
                "explanation": g.explanation,
            }
        )
    return 1 if bad else 0


def cmd_replay(args) -> int:
    from isf.replay import result

    emit(result(*replay_file(args, "replay")))
    return 0


def cmd_coding(args) -> int:
    from isf.coding import document, table
    from isf.settlement.export import csv_of

    if args.redis:
        import redis

        from services.common.redis import read_totals

        rows = read_totals(redis.Redis.from_url(args.redis))
    else:
        rows = replay_file(args, "coding")[1]
    doc = document(rows, args.year)
    if args.format == "csv":
        sys.stdout.write(csv_of(table(doc)))
    else:
        emit(doc)
    return 0


def cmd_explain(args) -> int:
    from isf.grouping.explain import explain
    from isf.ingest import Rejected, parse, to_activity
    from isf.pseudonym import DEMO_KEY

    for raw in lines(args.file):
        e = parse(raw, DEMO_KEY)
        if isinstance(e, Rejected):
            print(f"isf explain: not a valid event: {e.errors}", file=sys.stderr)
            return 2
        if args.episode and getattr(e, "episode_id", None) != args.episode:
            continue
        a = to_activity(e, DEMO_KEY)
        if a.kind != "episode":
            continue
        emit({"episode_id": getattr(e, "episode_id", None), **explain(a, args.year)})
        return 0
    print("isf explain: no such episode in the input", file=sys.stderr)
    return 2


def cmd_feed(args) -> int:
    from isf.feed import Feed, FeedConfig
    from services.common.progress import Progress

    events = Feed(FeedConfig(seed=args.seed, year=args.year)).events(args.count)
    if args.out:
        progress = Progress("isf feed")
        with open(args.out, "wb") as fh:
            for n, (_k, raw) in enumerate(events, 1):
                fh.write(raw + b"\n")
                if n % 1000 == 0:
                    progress.update(n, n / args.count)
        progress.close(args.count)
        print(f"{args.count} events -> {args.out}", file=sys.stderr)
        return 0
    if args.kafka:
        from .runner import produce

        progress = Progress("isf feed")
        n = produce(args.kafka, events, rate=args.rate, on_progress=lambda k: progress.update(k, k / args.count))
        progress.close(n)
        print(f"{n} events sent to {args.kafka}", file=sys.stderr)
        return 0
    for _k, raw in events:
        sys.stdout.buffer.write(raw + b"\n")
        if args.rate:
            time.sleep(1 / args.rate)
    return 0


def cmd_conformance(args) -> int:
    from isf.grouping.conformance import run_conformance

    defs, cases = Path(args.defs), Path(args.cases)
    if not defs.exists() or not cases.exists():
        print(f"conformance skipped: {defs if not defs.exists() else cases} not found", file=sys.stderr)
        return 0
    summary, disagreements = run_conformance(defs, cases)
    for d in disagreements:
        emit({"disagreement": d})
    emit(summary)
    return 0 if summary["drg_agree"] == summary["logic_agree"] == summary["cases"] else 1


def cmd_definitions(args) -> int:
    """What a supplied definition set holds, before a rule year is switched to it."""
    from isf.grouping.tables import DefinitionError, load_definitions

    try:
        defs = load_definitions(Path(args.path), fmt=args.format, pair_category=args.pair_category)
    except DefinitionError as exc:
        print(f"isf definitions: {exc}", file=sys.stderr)
        return 2
    emit(defs.report)
    return 0


def write_schemas() -> None:
    from isf.events import json_schemas

    SCHEMA_DIR.mkdir(parents=True, exist_ok=True)
    for name, schema in json_schemas().items():
        (SCHEMA_DIR / name).write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def cmd_run(args) -> int:
    from .run import run

    return run(duration=args.duration, rate=args.rate, seed=args.seed)


def cmd_redrive(args) -> int:
    import redis

    from services.common.bootstrap import redis_client

    from .redrive import redrive

    client = redis.Redis.from_url(args.redis) if args.redis else redis_client()
    emit(redrive(args.kafka, client, dry_run=args.dry_run, stage=args.stage))
    return 0


def cmd_calibrate(args) -> int:
    from isf.calibration import calibrate, money
    from isf.feed import Feed, FeedConfig
    from services.common.progress import Progress

    progress = Progress("isf calibrate")

    def events():
        for n, (_k, raw) in enumerate(Feed(FeedConfig(seed=args.seed)).events(args.count), 1):
            if n % 1000 == 0:
                progress.update(n, n / args.count)
            yield raw
        progress.close(args.count)

    if args.money:
        from isf.pseudonym import DEMO_KEY
        from isf.replay import Pipeline

        rows = list(Pipeline(DEMO_KEY).run(events()).totals.rows())
        emit({"money": money(rows, args.count, national_events=args.national_events)})
        return 0
    emit(calibrate(events()))
    return 0


def cmd_weights(args) -> int:
    from isf.rules.weightlist import WeightListError, import_weight_list, write_weights_csv

    try:
        rows = import_weight_list(Path(args.file))
    except WeightListError as exc:
        print(f"isf weights: {exc}", file=sys.stderr)
        return 2
    if args.out:
        with open(args.out, "w", encoding="utf-8", newline="") as fh:
            write_weights_csv(rows, fh)
        print(f"{len(rows)} DRGs -> {args.out}", file=sys.stderr)
    else:
        write_weights_csv(rows, sys.stdout)
    return 0


def cmd_bench(args) -> int:
    from .bench import run

    emit(run(quick=args.quick, out_dir=args.out, national=args.national, events=args.events))
    return 0


def count(text: str) -> int:
    """A number of events: a whole number, at least 1."""
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="isf", description="ISF Stream: Norwegian activity-based financing as a stream")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="the embedded default: broker, Redis, all services, feed, dashboard")
    r.add_argument("--duration", type=float, help="stop after S seconds and print a JSON summary")
    r.add_argument("--rate", type=float, default=200.0, help="feed events per second")
    r.add_argument("--seed", type=int, default=1)
    r.set_defaults(fn=cmd_run)
    g = sub.add_parser("group", help="group episode events (JSON lines) under a rule year, without Kafka")
    g.add_argument("--year", type=int, required=True)
    g.add_argument("file", nargs="?")
    g.set_defaults(fn=cmd_group)
    rp = sub.add_parser("replay", help="the whole streaming logic in-process over an event file")
    rp.add_argument("file", nargs="?")
    workers_option(rp)
    rp.set_defaults(fn=cmd_replay)
    cd = sub.add_parser("coding", help="coding feedback: error DRGs with reasons, case mix and its drift per HF")
    cd.add_argument("--year", type=int, required=True)
    cd.add_argument("--format", choices=("json", "csv"), default="json")
    cd.add_argument("--redis", help="read the live settled totals from this Redis instead of replaying FILE")
    cd.add_argument("file", nargs="?", help="events (JSON lines) to replay; stdin if omitted")
    workers_option(cd)
    cd.set_defaults(fn=cmd_coding)
    ex = sub.add_parser("explain", help="one episode's grouping: logic rows tried, CC level and what gave it")
    ex.add_argument("--year", type=int, required=True)
    ex.add_argument("--episode", help="the episode_id to explain (default: the first episode of the input)")
    ex.add_argument("file", nargs="?")
    ex.set_defaults(fn=cmd_explain)
    f = sub.add_parser("feed", help="synthetic episode and prescription events")
    f.add_argument("--rate", type=float)
    f.add_argument("--count", type=count, default=1000)
    f.add_argument("--seed", type=int, default=1)
    f.add_argument("--year", type=int, default=2026)
    f.add_argument("--out")
    f.add_argument("--kafka", help="bootstrap servers: send to the input topics instead of stdout")
    f.set_defaults(fn=cmd_feed)
    c = sub.add_parser("conformance", help="agreement with the reference grouper's golden cases")
    c.add_argument("--defs", required=True)
    c.add_argument("--cases", required=True)
    c.set_defaults(fn=cmd_conformance)
    d = sub.add_parser("definitions", help="definition data a user supplies (NordDRG tables)")
    dsub = d.add_subparsers(dest="action", required=True)
    dc = dsub.add_parser("check", help="read a set and report what it holds: format, rules, codes, national version")
    dc.add_argument("path", help="a folder of CSV tables, a workbook (.xlsx), or the old JSON (.json/.zip)")
    dc.add_argument("--format", choices=("auto", "old", "current"), default="auto")
    dc.add_argument("--pair-category", choices=("second", "first"), default="second")
    dc.set_defaults(fn=cmd_definitions)
    settlement.add_commands(sub)
    rv = sub.add_parser("redrive", help="send the items stages set aside (dead letters) back, once the fix is deployed")
    rv.add_argument("--kafka", required=True, help="bootstrap servers")
    rv.add_argument("--redis", help="Redis URL (default: REDIS_URL); remembers what was redriven")
    rv.add_argument("--stage", choices=("grouper", "aggregator", "indicators", "settlement"), help="only this stage's")
    rv.add_argument("--dry-run", action="store_true", help="say what would be sent where, send nothing")
    rv.set_defaults(fn=cmd_redrive)
    ca = sub.add_parser("calibrate", help="the feed's points per HF and RBF achievements against seed 000")
    ca.add_argument("--count", type=count, default=100_000)
    ca.add_argument("--seed", type=int, default=1)
    ca.add_argument(
        "--money",
        action="store_true",
        help="instead: the seeds' points and the feed's year scaled to a national year, priced at 2024 prices "
        "against seed 001's 2024 ISF frames per RHF (sørge for)",
    )
    ca.add_argument("--national-events", type=int, default=12_000_000, help="with --money: events in a national year")
    ca.set_defaults(fn=cmd_calibrate)
    w = sub.add_parser("weights", help="convert a directorate weight list (CSV/Excel) to the documented CSV")
    w.add_argument("file")
    w.add_argument("--out")
    w.set_defaults(fn=cmd_weights)
    b = sub.add_parser("bench", help="performance figures with same-run baselines, as JSON (bench/results/)")
    b.add_argument("--quick", action="store_true", help="small samples: a smoke run of every figure")
    b.add_argument("--out", help="folder for the result file (default bench/results)")
    b.add_argument(
        "--national",
        action="store_true",
        help="replay and stream a whole national year (12 million events): measured, not extrapolated; hours here",
    )
    b.add_argument("--events", type=int, help="with --national: another number of events than 12 million")
    b.set_defaults(fn=cmd_bench)
    args = p.parse_args(argv)
    from services.common.bootstrap import configure_rules

    configure_rules()
    try:
        return args.fn(args)
    except OSError as exc:  # a file that is not there or cannot be written, a server that refused: one line, no trace
        where = f": {exc.filename}" if exc.filename else ""
        print(f"isf {args.cmd}: {exc.strerror or type(exc).__name__}{where}", file=sys.stderr)
        return 2
