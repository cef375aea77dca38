"""What every faust service shares: the Redis store, JSON codecs, a send, and per-worker throughput stats."""
from __future__ import annotations

import json
import os
import time

from .config import redis_url
from .redis_store import RedisStore

_store: RedisStore | None = None
_processed: dict[str, int] = {}


def store() -> RedisStore:
    global _store
    if _store is None:
        import redis.asyncio as aredis
        _store = RedisStore(aredis.from_url(redis_url()))
    return _store


def dumps(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), default=str).encode()


async def send(topic, key: str, value: bytes) -> None:
    """Send from inside an agent: faust attaches the message to the input offset and publishes it,
    and waits for the broker, before it commits that offset (at-least-once). Awaiting the returned
    future here would wait for the next commit, one message per commit interval."""
    await topic.send(key=key.encode(), value=value)


def processed(service: str, n: int = 1) -> None:
    """Count messages handled; `track` flushes the counts to Redis once a second (not per message)."""
    _processed[service] = _processed.get(service, 0) + n


def track(app, service: str) -> None:
    """Register the once-a-second flush of this worker's counts: what the monitor shows as events/s per
    service, and how a test sees that two workers of one service both did work."""
    worker = f"{service}:{os.getpid()}"

    @app.timer(1.0)
    async def flush_stats():
        n = _processed.pop(service, 0)
        await store().worker_stats(service, worker, n, time.time())
