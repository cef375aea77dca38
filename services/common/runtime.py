"""What every faust service shares: the Redis store, JSON codecs and a send that waits for the broker."""
from __future__ import annotations

import json

from .config import redis_url
from .redis_store import RedisStore

_store: RedisStore | None = None


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
