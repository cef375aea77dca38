"""What every faust service's handlers share: micro-batches in and out, per-worker stats, and setting aside what a
stage cannot process. The store and the batch sizes come from the bootstrap as arguments.

Internal topics carry JSON arrays (micro-batches): per-message overhead in faust and round trips
to Redis, not the domain logic, bound a service's rate (STACK.md), so each agent takes up to
ISF_BATCH_MESSAGES array messages at a time (waiting at most ISF_BATCH_WITHIN seconds; ingest takes
ISF_BATCH input messages through `plain_input`), does one Redis round trip for all of them, and
publishes its output as arrays of up to CHUNK items.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import os
import time

from isf.rules import data_versions
from isf.stages import Aside

from . import names, observability
from .redis import RedisStore

CHUNK = 200  # items per output message: keeps messages well under the broker's 1 MB limit
log = logging.getLogger("isf")
_processed: dict[str, int] = {}


def dumps(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), default=str).encode()


def supervised(service: str):
    """Wrap an agent (or ingest's input task) so an unexpected error ends the worker process instead of
    leaving a live worker whose consuming has silently stopped: the supervisor (`isf run`, compose, k8s)
    starts it again and the uncommitted batch is delivered again."""

    def wrap(fn):
        @functools.wraps(fn)
        async def agent(*args):
            try:
                await fn(*args)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s: unexpected error; exiting so that the worker is restarted", service)
                logging.shutdown()
                os._exit(70)

        return agent

    return wrap


def batches(stream, messages: int, within: float):
    """Micro-batches of up to `messages` array messages (ISF_BATCH_MESSAGES; internal topics, each up to CHUNK
    items), waiting at most `within` seconds (ISF_BATCH_WITHIN) to fill one. faust acks a batch's input offsets
    only after the loop body has finished with it, so everything `publish`ed for it is on the broker first
    (at-least-once)."""
    return stream.take(messages, within=within)


async def publish(topic, key: str, values: list[bytes]) -> None:
    """Send JSON values as array messages and wait for the broker's acknowledgement of each.
    `force` bypasses faust's attachments: those belong to one input event, a batch spans many."""
    for i in range(0, len(values), CHUNK):
        fut = await topic.send(key=key.encode(), value=b"[" + b",".join(values[i : i + CHUNK]) + b"]", force=True)
        await fut


def processed(service: str, n: int = 1) -> None:
    """Count the messages of one micro-batch; `track` flushes the counts to Redis once a second (not per message)."""
    _processed[service] = _processed.get(service, 0) + n
    observability.count("processed", n)
    observability.batch_taken(n)


def track(app, service: str, store: RedisStore) -> None:
    """Register the once-a-second flush of this worker's counts: what the monitor shows as events/s per
    service, and how a test sees that two workers of one service both did work."""
    worker = f"{service}:{os.getpid()}"

    @app.timer(1.0)
    async def flush_stats():
        n = _processed.pop(service, 0)
        try:
            await store.worker_stats(service, worker, n, time.time())
        except Exception as exc:  # Redis away: keep the count for the next flush
            _processed[service] = _processed.get(service, 0) + n
            log.warning("stats not flushed: %s", type(exc).__name__)


def aside_digest(stage: str, payload: str) -> str:
    """What identifies one set-aside item: it is counted once per stage under it, and `isf redrive` sends it
    back once under it, however many dead letters carry it (a batch delivered again sets its items aside again)."""
    return hashlib.sha1(f"{stage}\0{payload}".encode()).hexdigest()


def aside_digests(stage: str, aside: list[Aside]) -> list[str]:
    return [aside_digest(stage, a.payload) for a in aside]


class SetAside:
    """What a stage after ingest does with the items it cannot process (`isf.stages.read` and friends): each
    goes to the dead-letter topic with the stage, its input topic (where `isf redrive` sends it back once the
    fix is deployed), the reason, the stage's rule data versions and the item, and is counted once per stage
    (Redis, the monitor's ops view, /metrics); the rest of the batch goes on."""

    def __init__(self, app, stage: str, input_topic: str, store: RedisStore):
        self.stage, self.input, self.store = stage, input_topic, store
        self.topic = app.topic(names.DEAD_LETTER, key_serializer="raw", value_serializer="raw")

    async def __call__(self, aside: list[Aside]) -> None:
        if not aside:
            return
        versions = data_versions()
        await publish(
            self.topic,
            self.stage,
            [
                dumps(
                    {
                        "stage": self.stage,
                        "input": self.input,
                        "reason": a.reason,
                        "rules": versions,
                        "payload": a.payload,
                        "message": a.message,
                    }
                )
                for a in aside
            ],
        )
        await self.store.set_aside(self.stage, aside_digests(self.stage, aside))
        observability.count("set_aside", len(aside))
        for a in aside:
            log.warning("%s: set aside: %s", self.stage, a.reason)
