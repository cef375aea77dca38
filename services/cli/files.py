"""What the `isf` commands share for input and output: JSON lines in (a file or stdin), JSON lines out, and a
replay of an event file sharded over processes."""

from __future__ import annotations

import json
import sys


def lines(path: str | None):
    """The non-empty lines of `path` (stdin if None or `-`), without their line ends."""
    fh = open(path, "rb") if path and path != "-" else sys.stdin.buffer
    try:
        for line in fh:
            if line.strip():
                yield line.rstrip(b"\r\n")
    finally:
        if fh is not sys.stdin.buffer:
            fh.close()


def emit(obj) -> None:
    """One JSON line on stdout."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")


def replay_file(args, what: str) -> tuple[dict, list]:
    """Counters and settled totals of replaying `args.file` (stdin if none) over `args.workers` processes, with
    progress on a terminal named `what`."""
    from functools import partial

    from isf.pseudonym import DEMO_KEY
    from isf.replay import Pipeline

    from . import replay_shards

    with replay_shards.readable(args.file) as path:
        return replay_shards.run(path, partial(Pipeline, DEMO_KEY), args.workers, what)


def workers_option(parser) -> None:
    parser.add_argument(
        "--workers", type=int, help="processes to shard the replay over (default: one per core; 1: in this process)"
    )
