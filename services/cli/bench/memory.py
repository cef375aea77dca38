"""Redis memory: bytes per tracked patient-period after the ledger scripts, against bare set members."""

from __future__ import annotations

import asyncio

from .common import _ratio


def bench_redis_memory(redis_url: str, n: int) -> dict:
    """Fill an empty Redis through the ledger script, then the same patient-periods as bare set members."""
    import redis
    import redis.asyncio as aredis

    from isf.feed import Feed, FeedConfig
    from services.common import names
    from services.common.config import settings
    from services.common.redis import RedisStore, read_ledger
    from services.common.scripted import apply_events

    client = redis.Redis.from_url(redis_url)
    client.flushall()
    base = client.info("memory")["used_memory"]
    events = [raw for _k, raw in Feed(FeedConfig(seed=103)).events(n)]

    store = RedisStore(
        aredis.from_url(redis_url), event_ttl=settings().isf_event_ttl, retain_years=settings().isf_retain_years
    )
    asyncio.run(apply_events(store, events, b"bench"))
    used = client.info("memory")["used_memory"] - base
    # the ledgers: one hash per patient, its patient-periods the units it holds; the shared vocabulary of
    # stats, periods and groups the ledgers name by id is counted with them
    unit_keys: list[str] = []
    sources = members = 0
    ledger_bytes = sum(client.memory_usage(k) or 0 for k in (names.VOCAB_IDS, names.VOCAB_TEXTS))
    for key in client.scan_iter(match=names.ledger("*"), count=5000):
        s, m, units = read_ledger(client, key)
        sources += s
        members += m
        unit_keys += [f"{key.decode()}:{u}" for u in units]
        ledger_bytes += client.memory_usage(key) or 0
    # baseline: each patient-period as one member of one plain set (the least Redis can hold)
    client.delete("bench:bare")
    b0 = client.info("memory")["used_memory"]
    for i in range(0, len(unit_keys), 1000):
        client.sadd("bench:bare", *unit_keys[i : i + 1000])
    bare = (client.info("memory")["used_memory"] - b0) / max(1, len(unit_keys))
    client.flushall()
    # every byte of the ledgers (sources' items and revisions too) over the patient-periods: an upper bound
    per = ledger_bytes / max(1, len(unit_keys))
    return {
        "value": round(per),
        "unit": "ledger bytes per tracked patient-period (all of the patients' ledger hashes and their vocabulary)",
        "patient_periods": len(unit_keys),
        "memberships": members,
        "sources": sources,
        "events": n,
        "ledger_bytes_per_event": round(ledger_bytes / n),
        "all_state_bytes_per_event": round(used / n),
        "all_state_bytes": used,
        "baseline": {"bare_set_member": {"value": round(bare), "ratio": _ratio(per, bare)}},
    }
