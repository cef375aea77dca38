"""The batch reference (`isf.replay.Pipeline`) sharded over processes, so a replay uses every core.

Two phases, because ingest's state is per source and the ledgers' per patient (a corrected patient id
moves a source from one patient to another):
1. every worker reads the whole input and takes the lines whose source falls in its shard
   (`isf.replay.source_key`), ingests and groups them, and spools each ledger item to the file of the
   item's patient shard (its contributions as plain tuples: `Contributions.packed`);
2. every worker applies the items of one patient shard, from every spool, and settles them.
The ledgers end in the same state in any order of arrival (tests/unit/test_any_order.py), so the
totals are the single process's; the parent sums the workers' counters and totals. Workers are forked,
so a pipeline built from closures (the redistribution's pricing) needs no pickling.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import queue as queues
import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from isf import stages
from isf.periods.ledger import ApplyItem, Contributions
from isf.replay import BATCH, Pipeline, shard_of, source_key
from isf.settlement.totals import Totals
from services.common.gc_tuning import freeze_survivors, tune_gc
from services.common.progress import Progress


def _front(i: int, n: int, path: str, spool: Path, make: Callable[[], Pipeline], what: str, out) -> None:
    pipe = make()
    files = [open(spool / f"{i}-{j}", "wb") for j in range(n)]
    # every worker reads the whole file at about the same pace: the first one shows how far they are
    progress = Progress(f"{what}: reading and grouping", "lines") if i == 0 else None
    size = os.path.getsize(path) or 1

    def flush(chunk: list[bytes]) -> None:
        grouped = pipe.front(chunk)
        for ns, contributions in pipe.ledgers:
            parts: list[list] = [[] for _ in range(n)]
            for i in stages.ledger_items(grouped, ns, contributions):
                spooled = (i.namespace, i.patient, i.source, i.revision, i.contributions.packed(), i.closes_at)
                parts[shard_of(i.patient, n)].append(spooled)
            for f, part in zip(files, parts):
                if part:
                    pickle.dump(part, f, protocol=pickle.HIGHEST_PROTOCOL)

    chunk: list[bytes] = []
    with open(path, "rb") as fh:
        read = 0
        for read, raw in enumerate(fh, 1):
            if progress is not None and read % 1000 == 0:
                progress.update(read, fh.tell() / size)
            raw = raw.rstrip(b"\r\n")
            if raw and shard_of(source_key(raw), n) == i:
                chunk.append(raw)
                if len(chunk) >= BATCH:
                    flush(chunk)
                    chunk = []
                    freeze_survivors()
    if chunk:
        flush(chunk)
    for f in files:
        f.close()
    if progress is not None:
        progress.close(read)
    out.put((i, pipe.counters))


def _back(j: int, n: int, spool: Path, make: Callable[[], Pipeline], what: str, out) -> None:
    pipe = make()
    parts = [spool / f"{i}-{j}" for i in range(n)]
    size, before = sum(p.stat().st_size for p in parts) or 1, 0
    progress = Progress(f"{what}: settling", "items") if j == 0 else None
    items = 0
    for part in parts:
        with open(part, "rb") as fh:
            while True:
                try:
                    packed = pickle.load(fh)
                except EOFError:
                    break
                pipe.back(
                    [
                        ApplyItem(
                            namespace=ns,
                            patient=p,
                            source=src,
                            revision=rev,
                            contributions=Contributions.unpacked(c),
                            closes_at=close,
                        )
                        for ns, p, src, rev, c, close in packed
                    ]
                )
                freeze_survivors()
                items += len(packed)
                if progress is not None:
                    progress.update(items, (before + fh.tell()) / size)
        before += part.stat().st_size
    if progress is not None:
        progress.close(items)
    out.put((j, list(pipe.totals.rows())))


def _phase(target, n: int, args: tuple) -> list:
    """Run `target(k, n, *args, queue)` in n forked workers; their answers in shard order. A worker that
    dies stops the others and the replay, naming it."""
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    procs = [ctx.Process(target=target, args=(k, n, *args, out), name=f"isf-replay-{k}") for k in range(n)]
    for p in procs:
        p.start()
    answers: dict[int, object] = {}
    try:
        while len(answers) < n:
            try:
                k, value = out.get(timeout=0.5)
                answers[k] = value
            except queues.Empty:
                dead = [p for p in procs if p.exitcode not in (None, 0)]
                if dead:
                    raise RuntimeError(f"replay worker {dead[0].name} failed (exit code {dead[0].exitcode})") from None
    finally:
        for p in procs:
            if p.exitcode is None and len(answers) < n:
                p.terminate()
            p.join()
    return [answers[k] for k in range(n)]


def run(path: str, make: Callable[[], Pipeline], workers: int | None = None, what: str = "replay") -> tuple[dict, list]:
    """The event counters and settled totals (`Totals.rows`) of the lines of `path`, replayed by the
    pipeline `make` builds over `workers` processes (default: one per core). On a terminal, progress on
    standard error, named `what`."""
    n = workers or os.cpu_count() or 1
    tune_gc()
    if n == 1:
        progress = Progress(what)
        size = os.path.getsize(path) or 1
        with open(path, "rb") as fh:
            pipe = make()

            def after_batch() -> None:
                freeze_survivors()
                progress.update(pipe.seen, fh.tell() / size)

            pipe.run(fh, after_batch=after_batch)
        progress.close(pipe.seen)
        return pipe.counters, list(pipe.totals.rows())
    spool = Path(tempfile.mkdtemp(prefix="isf-replay-"))
    try:
        fronts = _phase(_front, n, (path, spool, make, what))
        backs = _phase(_back, n, (spool, make, what))
    finally:
        shutil.rmtree(spool, ignore_errors=True)
    counters: dict[str, int] = {}
    for c in fronts:
        for k, v in c.items():
            counters[k] = counters.get(k, 0) + v
    totals = Totals()
    for rows in backs:
        totals.add_rows(rows)
    return counters, list(totals.rows())


@contextmanager
def readable(path: str | None) -> Iterator[str]:
    """A file every worker can read: `path`, or standard input spooled to a temporary file."""
    if path and path != "-":
        yield path
        return
    fd, spool = tempfile.mkstemp(prefix="isf-replay-input-")
    try:
        with os.fdopen(fd, "wb") as fh:
            shutil.copyfileobj(sys.stdin.buffer, fh)
        yield spool
    finally:
        os.unlink(spool)
