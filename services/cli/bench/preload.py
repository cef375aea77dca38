"""A state of many events written straight into Redis, without Kafka: the services' own stage functions and
Lua scripts (`RedisStore`) over the events in micro-batches, on several processes, so the latency phase can
run on top of a million events' state without a flood of many minutes first.

Each batch goes through what the services do with it: ingest (the same pseudonym key, retention and open
years), the grouper (items the rules fail on set aside and counted as the grouper counts them), both
contribution ledgers and settlement. Input is split over the processes by source, as the services' input
partitions split it, so the versions of one source meet ingest in their order; the ledgers and totals end
in the same state in any order of arrival. tests/integration/test_preload.py holds the keys and values
this leaves equal to those the running services leave after the same events.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import time
from typing import Iterable

from isf import stages
from isf.periods.calendar import first_open_year
from isf.replay import shard_of, source_key
from services.common.runtime import aside_digests

CHUNK = 500  # events per micro-batch: ISF_BATCH, what ingest takes at a time under load


async def apply_as_services(store, raws: list[bytes], key: bytes, retain: int, now: float | None = None) -> None:
    """One micro-batch of input events through every stage as the services apply it, into `store`'s Redis."""
    from isf.periods import LEDGERS

    out = await stages.ingest(raws, key, store, open_from=first_open_year(now or time.time(), retain), retain=retain)
    grouped, failed = stages.group_each(out.passed)
    if failed:
        await store.set_aside("grouper", aside_digests("grouper", failed))
    for ns, contributions in LEDGERS:
        ok, items, aside = stages.contribute(grouped, ns, contributions, retain)
        changed = await stages.apply_items(items, store, [g.rules for g in ok])
        await stages.settle(changed, store)
        if aside:
            await store.set_aside(_service_of(ns), aside_digests(_service_of(ns), aside))


def _service_of(namespace: str) -> str:
    from isf.periods.indicators import NAMESPACE as INDICATORS

    return "indicators" if namespace == INDICATORS else "aggregator"


def _worker(url: str, key: bytes, retain: int, inbox, done) -> None:
    import redis.asyncio as aredis

    from services.common.config import settings
    from services.common.redis import RedisStore

    async def go() -> None:
        client = aredis.from_url(url)
        store = RedisStore(client, event_ttl=settings().isf_event_ttl, retain_years=retain)
        try:
            while (chunk := inbox.get()) is not None:
                await apply_as_services(store, chunk, key, retain)
                with done.get_lock():
                    done.value += len(chunk)
        finally:
            await client.aclose()

    asyncio.run(go())


def preload(url: str, events: Iterable[bytes], count: int, key: bytes, workers: int | None = None) -> dict:
    """Write the state `count` events leave (the first `count` of `events`) into the Redis at `url`, on
    `workers` processes (default: one per core); returns how many and how fast, and shows progress on a
    terminal."""
    from services.common.config import settings
    from services.common.progress import Progress

    workers = workers or os.cpu_count() or 1
    retain = settings().isf_retain_years
    ctx = mp.get_context("fork")
    done = ctx.Value("q", 0)
    inboxes = [ctx.Queue(maxsize=8) for _ in range(workers)]
    procs = [ctx.Process(target=_worker, args=(url, key, retain, q, done), daemon=True) for q in inboxes]
    for p in procs:
        p.start()
    progress = Progress("bench: preloading Redis")
    chunks: list[list[bytes]] = [[] for _ in range(workers)]
    t0 = time.perf_counter()
    sent = 0
    try:
        for raw in events:
            if sent == count:
                break
            i = shard_of(source_key(raw), workers)
            chunks[i].append(raw)
            if len(chunks[i]) == CHUNK:
                inboxes[i].put(chunks[i])
                chunks[i] = []
            sent += 1
            if sent % 5000 == 0:
                progress.update(done.value, done.value / count)
        for q, chunk in zip(inboxes, chunks):
            if chunk:
                q.put(chunk)
            q.put(None)
        while any(p.is_alive() for p in procs):
            progress.update(done.value, done.value / count)
            for p in procs:
                p.join(0.2)
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
    elapsed = time.perf_counter() - t0
    progress.close(done.value)
    if done.value != sent or any(p.exitcode for p in procs):
        raise RuntimeError(
            f"preload: {done.value} of {sent} events applied; worker exit codes {[p.exitcode for p in procs]}"
        )
    return {"events": sent, "seconds": round(elapsed, 1), "events_per_s": round(sent / elapsed), "workers": workers}
