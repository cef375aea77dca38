"""The `isf` command: run, group, explain, replay, coding, rbf, statement, redistribute, nki, redrive, feed,
calibrate, weights, conformance, definitions, bench.

JSON (lines) in and out unless a format is asked for."""

from __future__ import annotations

import argparse
import json
import sys
import time
from decimal import Decimal
from pathlib import Path

from services.common import names

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "shared" / "schemas"


def _lines(path: str | None):
    fh = open(path, "rb") if path and path != "-" else sys.stdin.buffer
    try:
        for line in fh:
            if line.strip():
                yield line.rstrip(b"\r\n")
    finally:
        if fh is not sys.stdin.buffer:
            fh.close()


def _print(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")


def cmd_group(args) -> int:
    from isf.grouping.activity import group_activity
    from isf.ingest import Rejected, parse, to_activity
    from isf.pseudonym import DEMO_KEY

    bad = 0
    for raw in _lines(args.file):
        e = parse(raw, DEMO_KEY)
        if isinstance(e, Rejected):
            bad += 1
            _print({"error": e.errors})
            continue
        g = group_activity(to_activity(e, DEMO_KEY), year=args.year, explain=True)
        _print(
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


def _replay_file(args, what: str) -> tuple[dict, list]:
    """Counters and settled totals of replaying `args.file` (stdin if none) over `args.workers` processes, with
    progress on a terminal named `what`."""
    from functools import partial

    from isf.pseudonym import DEMO_KEY
    from isf.replay import Pipeline

    from . import replay_shards

    with replay_shards.readable(args.file) as path:
        return replay_shards.run(path, partial(Pipeline, DEMO_KEY), args.workers, what)


def cmd_replay(args) -> int:
    from isf.replay import result

    _print(result(*_replay_file(args, "replay")))
    return 0


def cmd_coding(args) -> int:
    from isf.coding import document, table
    from isf.settlement.export import csv_of

    if args.redis:
        import redis

        from services.common.redis import read_totals

        rows = read_totals(redis.Redis.from_url(args.redis))
    else:
        rows = _replay_file(args, "coding")[1]
    doc = document(rows, args.year)
    if args.format == "csv":
        sys.stdout.write(csv_of(table(doc)))
    else:
        _print(doc)
    return 0


def cmd_explain(args) -> int:
    from isf.grouping.explain import explain
    from isf.ingest import Rejected, parse, to_activity
    from isf.pseudonym import DEMO_KEY

    for raw in _lines(args.file):
        e = parse(raw, DEMO_KEY)
        if isinstance(e, Rejected):
            print(f"isf explain: not a valid event: {e.errors}", file=sys.stderr)
            return 2
        if args.episode and getattr(e, "episode_id", None) != args.episode:
            continue
        a = to_activity(e, DEMO_KEY)
        if a.kind != "episode":
            continue
        _print({"episode_id": getattr(e, "episode_id", None), **explain(a, args.year)})
        return 0
    print("isf explain: no such episode in the input", file=sys.stderr)
    return 2


def cmd_rbf(args) -> int:
    from isf.settlement.rbf import distribute

    data = json.loads(b"".join(_lines(args.file)) or b"{}")
    try:
        ach = {r: {i: Decimal(str(v)) for i, v in inds.items()} for r, inds in data["achievements"].items()}
        budget = Decimal(str(data["budget_nok"])) if data.get("budget_nok") is not None else None
        out = distribute(args.year or int(data["year"]), ach, budget, data.get("key"))
    except (KeyError, ValueError, ArithmeticError) as exc:
        print(f"isf rbf: bad input: {exc}", file=sys.stderr)
        return 2
    _print(out)
    return 0


def cmd_feed(args) -> int:
    from isf.feed import Feed, FeedConfig

    events = Feed(FeedConfig(seed=args.seed, year=args.year)).events(args.count)
    if args.out:
        with open(args.out, "wb") as fh:
            for n, (_k, raw) in enumerate(events, 1):
                fh.write(raw + b"\n")
                if n % 10000 == 0:
                    print(f"\r{n}/{args.count} events", end="", file=sys.stderr)
        print(f"\r{args.count}/{args.count} events -> {args.out}", file=sys.stderr)
        return 0
    if args.kafka:
        from .runner import produce

        start = time.monotonic()
        n = produce(
            args.kafka,
            events,
            rate=args.rate,
            on_progress=lambda k: print(
                f"\r{k}/{args.count} events ({k / max(1e-9, time.monotonic() - start):.0f}/s)",
                end="",
                file=sys.stderr,
                flush=True,
            ),
        )
        print(f"\r{n}/{args.count} events sent to {args.kafka}", file=sys.stderr)
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
        _print({"disagreement": d})
    _print(summary)
    return 0 if summary["drg_agree"] == summary["logic_agree"] == summary["cases"] else 1


def cmd_definitions(args) -> int:
    """What a supplied definition set holds, before a rule year is switched to it."""
    from isf.grouping.tables import DefinitionError, load_definitions

    try:
        defs = load_definitions(Path(args.path), fmt=args.format, pair_category=args.pair_category)
    except DefinitionError as exc:
        print(f"isf definitions: {exc}", file=sys.stderr)
        return 2
    _print(defs.report)
    return 0


def write_schemas() -> None:
    from isf.events import json_schemas

    SCHEMA_DIR.mkdir(parents=True, exist_ok=True)
    for name, schema in json_schemas().items():
        (SCHEMA_DIR / name).write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def cmd_run(args) -> int:
    from .run import run

    return run(duration=args.duration, rate=args.rate, seed=args.seed)


def _read_nki(path: str | None) -> tuple[list, list[str]]:
    from pydantic import ValidationError

    from isf.events import NkiV1

    values, errors = [], []
    for n, line in enumerate(_lines(path), 1):
        try:
            values.append(NkiV1.model_validate_json(line))
        except ValidationError as exc:
            errors.append(
                f"line {n}: "
                + "; ".join(
                    f"{'.'.join(map(str, e['loc'])) or 'event'}: {e['msg']}" for e in exc.errors(include_url=False)
                )
            )
    return values, errors


def cmd_statement(args) -> int:
    from isf.settlement.export import to_csv, to_xlsx
    from isf.settlement.statements import StatementError, kind_of, statements

    try:
        kind = kind_of(args.kind or ("t1" if args.freeze else "final"))
    except StatementError as exc:
        print(f"isf statement: {exc}", file=sys.stderr)
        return 2
    if args.freeze:
        if not args.redis:
            print("isf statement: --freeze needs --redis (it freezes the live statement)", file=sys.stderr)
            return 2
        import redis

        from services.settlement.statements import freeze

        try:
            doc = freeze(redis.Redis.from_url(args.redis), args.year, kind)
        except ValueError as exc:
            print(f"isf statement: {exc}", file=sys.stderr)
            return 2
        print(f"{kind} statement {args.year} frozen at {doc['frozen_at']}", file=sys.stderr)
        return 0
    paid: dict = {}
    if args.redis:
        import redis

        from services.common.redis import read_nki, read_totals
        from services.settlement.statements import frozen

        client = redis.Redis.from_url(args.redis)
        rows, nki = read_totals(client), read_nki(client)
        paid = frozen(client, args.year)
    else:
        rows, nki = _replay_file(args, "statement")[1], {}
    if args.nki:
        values, errors = _read_nki(args.nki)
        if errors:
            print("isf statement: bad NKI values:\n  " + "\n  ".join(errors), file=sys.stderr)
            return 2
        for v in values:
            nki.setdefault(v.year, {})[v.hf] = (v.numerator, v.denominator)
    try:
        doc = statements(rows, args.year, nki, paid)[kind]
    except StatementError as exc:
        print(f"isf statement: {exc}", file=sys.stderr)
        return 2
    if args.format == "json":
        body = (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode()
    elif args.format == "csv":
        body = to_csv(doc).encode("utf-8")
    else:
        body = to_xlsx(doc)
    if args.out:
        Path(args.out).write_bytes(body)
        print(f"{kind} statement {args.year} -> {args.out}", file=sys.stderr)
    elif args.format == "xlsx":
        print("isf statement: Excel output needs --out FILE", file=sys.stderr)
        return 2
    else:
        sys.stdout.buffer.write(body)
    return 0


def cmd_redistribute(args) -> int:
    from isf.pseudonym import DEMO_KEY
    from isf.settlement.redistribution import compare, pipelines

    from . import replay_shards

    with replay_shards.readable(args.file) as path:
        makes = pipelines(DEMO_KEY, args.before, args.after, args.regroup)
        rows = [
            row
            for i, make in enumerate(makes, 1)
            for row in replay_shards.run(path, make, args.workers, f"redistribute {i}/{len(makes)}")[1]
        ]
    _print(compare(rows, args.before, args.after, "regroup" if args.regroup else "weights_only", args.budget_neutral))
    return 0


def cmd_nki(args) -> int:
    values, errors = _read_nki(args.file)
    if errors:
        print("isf nki: nothing sent; bad values:\n  " + "\n  ".join(errors), file=sys.stderr)
        return 2
    from kafka import KafkaProducer

    from services.common.config import kafka_client_kwargs

    producer = KafkaProducer(bootstrap_servers=args.kafka, acks="all", **kafka_client_kwargs())
    for v in values:
        producer.send(names.NKI, key=f"{v.year}|{v.hf}".encode(), value=v.model_dump_json(by_alias=True).encode())
    producer.flush()
    producer.close()
    print(f"{len(values)} NKI values sent", file=sys.stderr)
    return 0


def cmd_redrive(args) -> int:
    import redis

    from services.common.bootstrap import redis_client

    from .redrive import redrive

    client = redis.Redis.from_url(args.redis) if args.redis else redis_client()
    _print(redrive(args.kafka, client, dry_run=args.dry_run, stage=args.stage))
    return 0


def cmd_calibrate(args) -> int:
    from isf.calibration import calibrate, money
    from isf.feed import Feed, FeedConfig

    def events():
        for n, (_k, raw) in enumerate(Feed(FeedConfig(seed=args.seed)).events(args.count), 1):
            if n % 10000 == 0:
                print(f"\r{n}/{args.count} events", end="", file=sys.stderr, flush=True)
            yield raw

    if args.money:
        from isf.pseudonym import DEMO_KEY
        from isf.replay import Pipeline

        rows = list(Pipeline(DEMO_KEY).run(events()).totals.rows())
        print(file=sys.stderr)
        _print({"money": money(rows, args.count, national_events=args.national_events)})
        return 0
    report = calibrate(events())
    print(file=sys.stderr)
    _print(report)
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

    _print(run(quick=args.quick, out_dir=args.out, national=args.national, events=args.events))
    return 0


def _workers_option(parser) -> None:
    parser.add_argument(
        "--workers", type=int, help="processes to shard the replay over (default: one per core; 1: in this process)"
    )


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
    _workers_option(rp)
    rp.set_defaults(fn=cmd_replay)
    cd = sub.add_parser("coding", help="coding feedback: error DRGs with reasons, case mix and its drift per HF")
    cd.add_argument("--year", type=int, required=True)
    cd.add_argument("--format", choices=("json", "csv"), default="json")
    cd.add_argument("--redis", help="read the live settled totals from this Redis instead of replaying FILE")
    cd.add_argument("file", nargs="?", help="events (JSON lines) to replay; stdin if omitted")
    _workers_option(cd)
    cd.set_defaults(fn=cmd_coding)
    ex = sub.add_parser("explain", help="one episode's grouping: logic rows tried, CC level and what gave it")
    ex.add_argument("--year", type=int, required=True)
    ex.add_argument("--episode", help="the episode_id to explain (default: the first episode of the input)")
    ex.add_argument("file", nargs="?")
    ex.set_defaults(fn=cmd_explain)
    rb = sub.add_parser("rbf", help="RBF distribution from achievements (JSON)")
    rb.add_argument("--year", type=int, help="budget year (default: the input's `year`)")
    rb.add_argument("file", nargs="?")
    rb.set_defaults(fn=cmd_rbf)
    f = sub.add_parser("feed", help="synthetic episode and prescription events")
    f.add_argument("--rate", type=float)
    f.add_argument("--count", type=int, default=1000)
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
    s_ = sub.add_parser(
        "statement",
        help="settlement statement after tertial 1 (t1, also named provisional), after tertial 2 (t2), final, or "
        "the difference final minus t1; ISF of activity year Y, each with its change from the statement before, "
        "and RBF of budget year Y+1 (from Y's data)",
    )
    s_.add_argument("--year", type=int, required=True, help="activity year Y (ISF Y; RBF Y+1 from NPR Y and NKI Y-1)")
    s_.add_argument(
        "--kind",
        choices=("t1", "t2", "final", "difference", "provisional"),
        help="default: final (with --freeze: t1)",
    )
    s_.add_argument("--format", choices=("json", "csv", "xlsx"), default="json")
    s_.add_argument("--out", help="file to write (required for xlsx)")
    s_.add_argument("--nki", help="JSON lines of nki/v1 values for indicator 9 (RBF Y+1 uses those of year Y-1)")
    s_.add_argument("--redis", help="read the live settled totals from this Redis instead of replaying FILE")
    s_.add_argument(
        "--freeze",
        action="store_true",
        help="freeze the statement after tertial 1 or 2 (--kind t1|t2) as it stands now, when it is paid "
        "(with --redis; once per statement)",
    )
    s_.add_argument("file", nargs="?", help="events (JSON lines) to replay; stdin if omitted")
    _workers_option(s_)
    s_.set_defaults(fn=cmd_statement)
    rd = sub.add_parser(
        "redistribute",
        help="the same activity, grouped with the old year's logic, priced with both "
        "years' weights without TFG and supplements; per HF and RHF",
    )
    rd.add_argument("--from", dest="before", type=int, default=2025, help="old year: grouping logic and weights")
    rd.add_argument("--to", dest="after", type=int, default=2026, help="new year: weights")
    rd.add_argument(
        "--budget-neutral",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="scale the new points so each sector group's national total is unchanged (seed 000's calibration; "
        "the default); --no-budget-neutral shows the raw change",
    )
    rd.add_argument(
        "--regroup",
        action="store_true",
        help="instead: each year's full rules (own logic, TFG, supplements) over the same events",
    )
    rd.add_argument("file", nargs="?")
    _workers_option(rd)
    rd.set_defaults(fn=cmd_redistribute)
    nk = sub.add_parser("nki", help="send external NKI values (indicator 9) to the settlement service")
    nk.add_argument("--kafka", required=True, help="bootstrap servers")
    nk.add_argument("file", nargs="?")
    nk.set_defaults(fn=cmd_nki)
    rv = sub.add_parser("redrive", help="send the items stages set aside (dead letters) back, once the fix is deployed")
    rv.add_argument("--kafka", required=True, help="bootstrap servers")
    rv.add_argument("--redis", help="Redis URL (default: REDIS_URL); remembers what was redriven")
    rv.add_argument("--stage", choices=("grouper", "aggregator", "indicators", "settlement"), help="only this stage's")
    rv.add_argument("--dry-run", action="store_true", help="say what would be sent where, send nothing")
    rv.set_defaults(fn=cmd_redrive)
    ca = sub.add_parser("calibrate", help="the feed's points per HF and RBF achievements against seed 000")
    ca.add_argument("--count", type=int, default=100_000)
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
    return args.fn(args)
