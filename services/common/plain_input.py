"""Hospitals' input topics read with a plain aiokafka consumer, in micro-batches, committed after the output.

Input carries one event per Kafka message (CONTRACTS.md). Through faust each message became an event object
with its own acknowledgement, sensor calls and queue hops: about 250 µs of ingest's ~400 µs per event in a
flood, more than validating and pseudonymising it (STACK.md: one faust worker tops out near 5k msg/s). This
consumer hands the fetched values over as they are. The guarantee is the one the faust agents give: a
batch's offsets are committed only after its handler has returned, i.e. after everything it published was
acknowledged by the broker (at-least-once; the ingest script makes a redelivered event count once).

The consumer group is the service's own name (`isf-ingest`, as under faust, so committed offsets and the
monitor's lag view carry over); the faust app around it runs producer-only, so faust joins no group of it.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener
from aiokafka.errors import KafkaError

log = logging.getLogger("isf")


def values_as_sent(batch: dict) -> list[bytes]:
    """The values of a batch (records by partition), partitions interleaved by the time each record was sent,
    each partition's own order kept. Hospitals key their input by source (CONTRACTS.md), so a source's versions
    share a partition and keep their order anyway; input keyed otherwise (the privacy test sends copies of
    events under keys of their own) would let a later version overtake the one it corrects across partitions:
    the totals still converge (revisions are ordered), ingest's accepted/superseded counters would not."""
    return [r.value or b"" for r in heapq.merge(*batch.values(), key=lambda r: r.timestamp)]


# as the faust services: Tansu joins a group in about half the rebalance timeout (STACK.md)
GROUP_TIMING = {"session_timeout_ms": 10_000, "rebalance_timeout_ms": 10_000, "heartbeat_interval_ms": 1_000}


class PlainInput:
    """One consumer of the group `group` over `topics`; `run(handle)` calls `handle(values)` per micro-batch
    of up to `batch` messages (ISF_BATCH; waiting at most `within` seconds, ISF_BATCH_WITHIN, to fill one) and
    commits what it took after the last of them. `client` holds the consumer's connection settings (bootstrap
    servers, TLS, SASL) and `fetch_max_wait_ms` is ISF_FETCH_MAX_WAIT_MS: the bootstrap hands them over."""

    consumes = True

    def __init__(
        self, group: str, topics: tuple[str, ...], *, client: dict, batch: int, within: float, fetch_max_wait_ms: int
    ):
        self.group = group
        self.topics = topics
        self.client = client
        self.batch, self.within, self.fetch_max_wait_ms = batch, within, fetch_max_wait_ms
        self.consumer: AIOKafkaConsumer | None = None
        self.committed: dict = {}  # partition -> next offset to read, as committed for the group

    def assignment(self) -> set:
        return set(self.consumer.assignment()) if self.consumer is not None else set()

    def end(self, tp) -> int | None:
        assert self.consumer is not None, "asked only of partitions in the assignment, which a consumer gave"
        return self.consumer.highwater(tp)

    def next_offset(self, tp) -> int:
        return self.committed.get(tp, 0)

    async def run(self, handle: Callable[[list[bytes]], Awaitable[None]]) -> None:
        self.consumer = consumer = AIOKafkaConsumer(
            group_id=self.group,
            client_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=self.fetch_max_wait_ms,
            **GROUP_TIMING,
            **self.client,
        )
        consumer.subscribe(self.topics, listener=_Committed(self))
        await consumer.start()
        try:
            while True:
                batch = await self._take(self.batch, self.within)
                values = values_as_sent(batch)
                for i in range(0, len(values), self.batch):
                    await handle(values[i : i + self.batch])
                await self._commit({tp: records[-1].offset + 1 for tp, records in batch.items()})
        finally:
            await consumer.stop()  # leaves the group, so the others take over at once

    async def _take(self, least: int, within: float) -> dict:
        """Records by partition: all that is fetched (as faust takes them: a limit would drain one partition
        before the next, and input keyed other than by source could hand a correction over before the version it
        corrects), topped up for at most
        `within` seconds after the first arrives while fewer than `least` are in hand."""
        assert self.consumer is not None, "run() creates the consumer before taking"
        batch: dict = {}
        while not batch:
            batch = await self.consumer.getmany(timeout_ms=1000)
        count = sum(map(len, batch.values()))
        deadline = time.monotonic() + within
        while count < least and (left := deadline - time.monotonic()) > 0:
            more = await self.consumer.getmany(timeout_ms=int(left * 1000) or 1)
            for tp, records in more.items():
                batch.setdefault(tp, []).extend(records)
                count += len(records)
        return batch

    async def _commit(self, offsets: dict) -> None:
        assert self.consumer is not None, "run() creates the consumer before committing"
        try:
            await self.consumer.commit(offsets)
            self.committed.update(offsets)
        except KafkaError as exc:
            # partitions moved to another worker during the batch (or the broker is away): whoever reads them
            # next starts at the last commit and delivers this batch again, which the ingest script dedups
            log.warning("input offsets not committed (%s): the batch will be delivered again", type(exc).__name__)


class _Committed(ConsumerRebalanceListener):
    """On each assignment, the group's committed offset of every partition this worker was given: its lag
    is measured from there until its own first commit (an idle partition would show its whole length)."""

    def __init__(self, plain: PlainInput):
        self.plain = plain

    async def on_partitions_revoked(self, revoked) -> None:
        for tp in revoked:
            self.plain.committed.pop(tp, None)

    async def on_partitions_assigned(self, assigned) -> None:
        assert self.plain.consumer is not None, "an assignment comes from the consumer run() started"
        for tp in assigned:
            self.plain.committed[tp] = await self.plain.consumer.committed(tp) or 0
