"""The `isf` commands about money: statement (and its freeze), rbf, redistribute, nki."""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from pathlib import Path

from services.common import names

from .files import emit, lines, replay_file, workers_option


def read_nki(path: str | None) -> tuple[list, list[str]]:
    """The nki/v1 values of a JSON lines file, and a readable error per line that is not one."""
    from pydantic import ValidationError

    from isf.events import NkiV1

    values, errors = [], []
    for n, line in enumerate(lines(path), 1):
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
    from isf.settlement.statements import Settled, StatementError, kind_of

    try:
        kind = kind_of(args.kind or ("t1" if args.freeze else "final"))
    except StatementError as exc:
        print(f"isf statement: {exc}", file=sys.stderr)
        return 2
    if args.freeze and not args.redis:
        print("isf statement: --freeze needs --redis (it freezes the live statement)", file=sys.stderr)
        return 2
    if args.redis:
        import redis

        from services.settlement.statements import freeze, settled

        client = redis.Redis.from_url(args.redis)
        if args.freeze:
            try:
                doc = freeze(client, args.year, kind)
            except StatementError as exc:
                print(f"isf statement: {exc}", file=sys.stderr)
                return 2
            print(f"{kind} statement {args.year} frozen at {doc['frozen_at']}", file=sys.stderr)
            return 0
        state = settled(client, [args.year])
    else:
        state = Settled(replay_file(args, "statement")[1])
    if args.nki:
        values, errors = read_nki(args.nki)
        if errors:
            print("isf statement: bad NKI values:\n  " + "\n  ".join(errors), file=sys.stderr)
            return 2
        state = state.with_nki(values)
    try:
        doc = state.statements(args.year)[kind]
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


def cmd_rbf(args) -> int:
    from isf.settlement.rbf import distribute

    data = json.loads(b"".join(lines(args.file)) or b"{}")
    try:
        ach = {r: {i: Decimal(str(v)) for i, v in inds.items()} for r, inds in data["achievements"].items()}
        budget = Decimal(str(data["budget_nok"])) if data.get("budget_nok") is not None else None
        out = distribute(args.year or int(data["year"]), ach, budget, data.get("key"))
    except (KeyError, ValueError, ArithmeticError) as exc:
        print(f"isf rbf: bad input: {exc}", file=sys.stderr)
        return 2
    emit(out)
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
    emit(compare(rows, args.before, args.after, "regroup" if args.regroup else "weights_only", args.budget_neutral))
    return 0


def cmd_nki(args) -> int:
    values, errors = read_nki(args.file)
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


def add_commands(sub) -> None:
    """The subcommands of this module on `isf`'s parser."""
    rb = sub.add_parser("rbf", help="RBF distribution from achievements (JSON)")
    rb.add_argument("--year", type=int, help="budget year (default: the input's `year`)")
    rb.add_argument("file", nargs="?")
    rb.set_defaults(fn=cmd_rbf)
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
    workers_option(s_)
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
    workers_option(rd)
    rd.set_defaults(fn=cmd_redistribute)
    nk = sub.add_parser("nki", help="send external NKI values (indicator 9) to the settlement service")
    nk.add_argument("--kafka", required=True, help="bootstrap servers")
    nk.add_argument("file", nargs="?")
    nk.set_defaults(fn=cmd_nki)
