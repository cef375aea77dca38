"""The batch reference (`isf.replay.Pipeline`) sharded over processes, so a replay uses every core.

Two phases, because ingest's state is per source and the ledgers' per patient (a corrected patient id
moves a source from one patient to another):
1. every worker reads the whole input and takes the lines whose source falls in its shard
   (`isf.replay.source_key`), ingests and groups them, and spools each ledger item to the file of the
   item's patient shard (its contributions as plain tuples: `Contributions.packed`);
2. every worker applies the items of its patient shards, from every spool, one shard after another, and
   settles them. There are more patient shards than workers as the input grows (`patient_shards`), so a
   worker's memory is one shard's ledgers, whatever the size of the input.
The ledgers end in the same state in any order of arrival (tests/unit/test_any_order.py), so the
totals are the single process's; the parent sums the workers' counters and totals. Workers are forked,
so a pipeline built from closures (the redistribution's pricing) needs no pickling."""

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

# Input bytes per patient shard: some 60 000 feed events (570 bytes a line), whose ledgers take some 350 MB
# (6 KB an event): a worker of the second phase peaks under 500 MB whatever the input (README, Performance).
SHARD_BYTES = 32 << 20
SPILL = 100  # items a spool write holds (a worker buffers as many for every patient shard)


def _front(i: int, n: int, path: str, spool: Path, shards: int, make: Callable[[], Pipeline], what: str, out) -> None:
    pipe = make()
    files = [open(spool / f"{i}-{j}", "wb") for j in range(shards)]
    parts: list[list] = [[] for _ in range(shards)]
    # every worker reads the whole file at about the same pace: the first one shows how far they are
    progress = Progress(f"{what}: reading and grouping", "lines") if i == 0 else None
    size = os.path.getsize(path) or 1

    def spill(j: int) -> None:
        pickle.dump(parts[j], files[j], protocol=pickle.HIGHEST_PROTOCOL)
        parts[j] = []

    def flush(chunk: list[bytes]) -> None:
        grouped = pipe.front(chunk)
        for ns, contributions in pipe.ledgers:
            for i in stages.ledger_items(grouped, ns, contributions):
                spooled = (i.namespace, i.patient, i.source, i.revision, i.contributions.packed(), i.closes_at)
                j = shard_of(i.patient, shards)
                parts[j].append(spooled)
                if len(parts[j]) >= SPILL:
                    spill(j)

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
    for j, f in enumerate(files):
        if parts[j]:
            spill(j)
        f.close()
    if progress is not None:
        progress.close(read)
    out.put((i, pipe.counters))


def _back(k: int, n: int, spool: Path, shards: int, make: Callable[[], Pipeline], what: str, out) -> None:
    """Settle patient shards k, k + n, k + 2n, ... one after another, each in a pipeline of its own that is
    dropped once its totals are added to the worker's: a worker holds one shard's ledgers at a time."""
    mine = [[spool / f"{i}-{j}" for i in range(n)] for j in range(k, shards, n)]
    size, before = sum(p.stat().st_size for parts in mine for p in parts) or 1, 0
    progress = Progress(f"{what}: settling", "items") if k == 0 else None
    totals, items = Totals(), 0
    for parts in mine:
        pipe = make()
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
        totals.add_rows(pipe.totals.rows())
        del pipe
    if progress is not None:
        progress.close(items)
    out.put((k, list(totals.rows())))


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


def patient_shards(size: int, workers: int) -> int:
    """How many patient shards the second phase cuts an input of `size` bytes into: a multiple of the workers,
    with at most `SHARD_BYTES` of input in each."""
    return workers * max(1, -(-size // (SHARD_BYTES * workers)))


def run(
    path: str,
    make: Callable[[], Pipeline],
    workers: int | None = None,
    what: str = "replay",
    shards: int | None = None,
) -> tuple[dict, list]:
    """The event counters and settled totals (`Totals.rows`) of the lines of `path`, replayed by the
    pipeline `make` builds over `workers` processes (default: one per core), the ledgers in `shards` patient
    shards (default: `patient_shards`). On a terminal, progress on standard error, named `what`."""
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
    shards = patient_shards(os.path.getsize(path), n) if shards is None else shards
    spool = Path(tempfile.mkdtemp(prefix="isf-replay-"))
    try:
        fronts = _phase(_front, n, (path, spool, shards, make, what))
        backs = _phase(_back, n, (spool, shards, make, what))
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
