"""Redis memory: bytes per tracked patient-period after the ledger scripts, against bare set members."""

from __future__ import annotations

import asyncio
import json

from .common import _ratio


def bench_redis_memory(redis_url: str, n: int) -> dict:
    """Fill an empty Redis through the ledger script, then the same patient-periods as bare set members."""
    import redis
    import redis.asyncio as aredis

    from isf.feed import Feed, FeedConfig
    from services.common.redis_store import RedisStore
    from services.common.scripted import apply_events

    client = redis.Redis.from_url(redis_url)
    client.flushall()
    base = client.info("memory")["used_memory"]
    events = [raw for _k, raw in Feed(FeedConfig(seed=103)).events(n)]

    asyncio.run(apply_events(RedisStore(aredis.from_url(redis_url)), events, b"bench"))
    used = client.info("memory")["used_memory"] - base
    # the ledgers: one msgpack document per patient (read as JSON through Redis' own Lua); its patient-periods
    # are the distinct units its records name
    unit_keys: list[str] = []
    sources = members = ledger_bytes = 0
    as_json = client.register_script("return cjson.encode(cmsgpack.unpack(redis.call('GET', KEYS[1])))")
    for key in client.scan_iter(match="isf:{*}:L:*", count=5000):
        doc = json.loads(as_json(keys=[key]))
        units: set[str] = set()
        for rec in doc["s"].values():
            sources += 1
            u = rec[3]
            units.update(f"{doc['t'][u[j] - 1]}|{doc['t'][u[j + 1] - 1]}" for j in range(0, len(u), 6))
            members += len(u) // 6
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
        "unit": "ledger bytes per tracked patient-period (all of the patients' ledger documents)",
        "patient_periods": len(unit_keys),
        "memberships": members,
        "sources": sources,
        "events": n,
        "ledger_bytes_per_event": round(ledger_bytes / n),
        "all_state_bytes_per_event": round(used / n),
        "all_state_bytes": used,
        "baseline": {"bare_set_member": {"value": round(bare), "ratio": _ratio(per, bare)}},
    }
