"""CPU per event of each service's work, without Kafka: every stage in one process over micro-batches of the
synthetic feed, each stage's output encoded and its input read as the services do it (JSON array messages), the
Redis scripts on a real Redis. Prints Python CPU µs per event by stage and, from `INFO commandstats`, the
scripts' Redis time per event by stage.

    redis-server --port 6479 --save '' --appendonly no &
    .venv/bin/python tools/stage_cost.py redis://127.0.0.1:6479/0 [events]

The Redis is flushed. Where the flood's per-process CPU (`make bench`, `cpu_us_per_event`) says which service
costs most, this says which step of it: reading, the rules, the script call or writing the output.
"""

from __future__ import annotations

import asyncio
import sys
import time

import redis
import redis.asyncio as aredis

from isf import stages
from isf.events import DELTA_BATCHES
from isf.feed import Feed, FeedConfig
from isf.periods import LEDGERS
from isf.periods.calendar import first_open_year
from services.common.redis import RedisStore

BATCH = 500  # events per micro-batch, as ingest takes them under load (ISF_BATCH)
RETAIN = 2


def array(values) -> bytes:
    return b"[" + b",".join(values) + b"]"


class Clock:
    """Python CPU and Redis script time per stage."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.cpu: dict[str, float] = {}
        self.redis: dict[str, int] = {}
        self.t, self.usec = time.process_time(), self._usec()

    def _usec(self) -> int:
        return int(self.client.info("commandstats").get("cmdstat_evalsha", {}).get("usec", 0))

    def lap(self, stage: str) -> None:
        t, usec = time.process_time(), self._usec()
        self.cpu[stage] = self.cpu.get(stage, 0.0) + t - self.t
        self.redis[stage] = self.redis.get(stage, 0) + usec - self.usec
        self.t, self.usec = time.process_time(), usec  # the INFO call's own CPU is left out of the next lap


async def run(url: str, raws: list[bytes]) -> Clock:
    sync = redis.Redis.from_url(url)
    sync.flushall()
    sync.config_resetstat()
    store = RedisStore(aredis.from_url(url), event_ttl=3600, retain_years=RETAIN)
    clock = Clock(sync)
    for i in range(0, len(raws), BATCH):
        out = await stages.ingest(
            raws[i : i + BATCH], b"stage-cost", store, open_from=first_open_year(time.time(), RETAIN), retain=RETAIN
        )
        activity = array(a.model_dump_json().encode() for a in out.passed)
        clock.lap("ingest")
        grouped, _unfit = stages.read([activity], stages.parse_activity)
        done, _failed = stages.group_each(grouped)
        message = array(g.model_dump_json().encode() for g in done)
        clock.lap("grouper")
        deltas = []
        for ns, contributions in LEDGERS:
            gs, _unfit = stages.read([message], stages.parse_grouped)
            clock.lap(f"{ns} ledger: read")
            ok, items, _aside = stages.contribute(gs, ns, contributions, RETAIN)
            clock.lap(f"{ns} ledger: rules")
            changed = await stages.apply_items(items, store, [g.rules for g in ok])
            clock.lap(f"{ns} ledger: script")
            deltas.append(array(DELTA_BATCHES.dump_json(b) for b in changed))
            clock.lap(f"{ns} ledger: write")
        batches, _unfit = stages.read(deltas, stages.parse_delta_batch)
        clock.lap("settlement: read")
        await stages.settle(batches, store)
        clock.lap("settlement: script")
    return clock


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else "redis://127.0.0.1:6479/0"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
    raws = [raw for _key, raw in Feed(FeedConfig(seed=7)).events(n)]
    clock = asyncio.run(run(url, raws))
    print(f"{'stage':24s} {'python µs/event':>16s} {'redis µs/event':>15s}")
    for stage, cpu in clock.cpu.items():
        print(f"{stage:24s} {cpu / n * 1e6:16.1f} {clock.redis[stage] / n:15.1f}")
    print(f"{'all':24s} {sum(clock.cpu.values()) / n * 1e6:16.1f} {sum(clock.redis.values()) / n:15.1f}")


if __name__ == "__main__":
    main()
