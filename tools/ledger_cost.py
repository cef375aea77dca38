"""Redis time per ledger item (the script runs many items per call) as a patient's history grows: patients of
1, 10, 100 and 1 000 sources, then three rounds of replacing one source and adding one, with the script's time
read from `INFO commandstats`.

    redis-server --port 6479 --save '' --appendonly no &
    .venv/bin/python tools/ledger_cost.py redis://127.0.0.1:6479/0 [--shared]

Every source names a unit of its own, or with `--shared` also one year-long unit with all the patient's sources
(the worst case: that unit's member list is read and written by every call). The Redis is flushed.
"""

from __future__ import annotations

import asyncio
import sys

import redis
import redis.asyncio as aredis

from isf.events import Delta
from isf.periods.ledger import ApplyItem, Contributions, Unit
from services.common.redis import ContributionLedger


def contributions(i: int, patient: str, shared: bool) -> Contributions:
    month = 1 + (i * 7) % 12
    score = 20260000 + month * 100 + 1 + i % 27
    items = (
        Delta("P|2026|ous|somatic|drg", f"2026-{month:02d}", 1000 + i, 1),
        Delta(f"P|2026|ous|x{i % 5}", f"2026-{month:02d}", 5, 1),
    )
    units = [(Unit(f"TFG|2026|X{i}", patient, f"2026-T{(month - 1) // 4 + 1}", "P|2026|ous|TFG", 300 + i % 3), score)]
    if shared:
        units.append((Unit("U|2026|ous|patients", patient, "2026", "I|2026|ous|patients", 0, True), score))
    return Contributions(items, tuple(units))


def item(ns: str, patient: str, source: str, revision: str, new: Contributions) -> ApplyItem:
    return ApplyItem(namespace=ns, patient=patient, source=source, revision=revision, contributions=new, closes_at=0)


async def cost(url: str, sources: int, shared: bool) -> float:
    r = redis.Redis.from_url(url)
    r.flushall()
    store = ContributionLedger(aredis.from_url(url), event_ttl=3600, retain_years=1)
    patients = [f"p_{j:032x}" for j in range(max(1, 2000 // sources))]
    for i in range(sources):
        first = "0000000001|0|e"
        await store.apply([item("pts", p, f"E:ous:s{i}", first, contributions(i, p, shared)) for p in patients])
    r.config_resetstat()
    applied = 0
    for n in range(3):
        batch = [
            each
            for p in patients[:500]
            for each in (
                item("pts", p, f"E:ous:s{(n * 37) % sources}", f"{n + 2:010d}|0|e", contributions(n + 5, p, shared)),
                item("pts", p, f"E:ous:n{n}", "0000000001|0|e", contributions(n, p, shared)),
            )
        ]
        await store.apply(batch)
        applied += len(batch)
    return r.info("commandstats")["cmdstat_evalsha"]["usec"] / applied


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else "redis://127.0.0.1:6479/0"
    shared = "--shared" in sys.argv
    for sources in (1, 10, 100, 1000):
        print(f"{sources:5d} sources per patient: {asyncio.run(cost(url, sources, shared)):8.1f} us per ledger item")


if __name__ == "__main__":
    main()
