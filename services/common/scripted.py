"""The streaming logic through the Redis scripts in one process, without Kafka: the services' stage
functions (`isf.stages`) over the Redis stores, in micro-batches as the services take them. For the
bench's Redis memory figure and the tests that the Lua twins equal the in-memory ones."""

from __future__ import annotations

from isf import stages
from isf.periods import LEDGERS

from .redis import RedisStore


async def apply_events(
    store: RedisStore, events: list[bytes], key: bytes, batch: int = 500, deliveries: int = 1
) -> None:
    """Ingest, group, apply both ledgers and settle; `deliveries` > 1 applies and settles every batch
    again (a redelivery, which must change nothing)."""
    for i in range(0, len(events), batch):
        out = await stages.ingest(events[i : i + batch], key, store)
        grouped = stages.group(out.passed)
        for ns, contributions in LEDGERS:
            for _ in range(deliveries):
                await stages.settle(await stages.apply_ledger(grouped, ns, contributions, store), store)
