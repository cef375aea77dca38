"""The streaming logic through the Redis scripts in one process, without Kafka: micro-batches as the
services take them. For the bench's Redis memory figure and the test that the scripts equal replay."""
from __future__ import annotations

from isf.grouping.activity import group_activity
from isf.ingest import PASS_ON, Rejected, parse, to_activity
from isf.periods import LEDGERS

from .redis_store import RedisStore


async def apply_events(store: RedisStore, events: list[bytes], key: bytes, batch: int = 500,
                       deliveries: int = 1) -> None:
    """Ingest, group, apply both ledgers and settle; `deliveries` > 1 applies every batch again
    (a redelivery, which must change nothing)."""
    for i in range(0, len(events), batch):
        parsed = [e for e in (parse(raw, key) for raw in events[i:i + batch]) if not isinstance(e, Rejected)]
        acts = [to_activity(e, key) for e in parsed]
        decisions = await store.decide([(a.source_id, e.event_id, e.version, "grouped", 0)
                                        for e, a in zip(parsed, acts)])
        grouped = [group_activity(a) for a, d in zip(acts, decisions) if d in PASS_ON]
        for ns, contributions in LEDGERS:
            for _ in range(deliveries):
                results = await store.apply([(ns, g.activity.source_id, g.activity.version, contributions(g), 0)
                                             for g in grouped])
                await store.settle([b for b in results if b is not None and b.deltas])
