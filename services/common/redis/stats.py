"""Worker statistics on Redis: messages per service and per worker, and each worker's last flush (the
monitor's events/s per service), under the hash tag `{stats}`."""

from __future__ import annotations

from .. import names
from .adapter import Adapter


class WorkerStats(Adapter):
    async def worker_stats(self, service: str, worker: str, n: int, now: float) -> None:
        async with self.r.pipeline(transaction=False) as p:
            if n:
                p.hincrby(names.STATS_PROCESSED, service, n)
                p.hincrby(names.STATS_WORKERS, worker, n)
            p.hset(names.STATS_BEAT, worker, f"{now:.3f}")
            await p.execute()
