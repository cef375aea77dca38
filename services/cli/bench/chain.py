"""The raw chain: the services' shape with no domain work, the fair limit the pipeline is compared with.

Five processes, one per consuming service, on topics of their own with the services' partitions: ingest reads
single events (up to ISF_BATCH at a time) and publishes them as JSON arrays of up to CHUNK items; the grouper
reads arrays (up to ISF_BATCH_MESSAGES messages at a time) and publishes arrays; the aggregator and the
indicators each read the grouper's arrays in a group of their own and publish arrays to a topic each;
settlement reads both. Every hop decodes and encodes JSON, waits for the broker's acknowledgement of what it
publishes and commits its input afterwards, as the services do; nothing else happens (the monitor, which
consumes no topic, has no process here).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import time

from services.common import names

PREFIX = "bench.chain."
HOPS = (  # service, input topics, output topic (the services' own topic names, prefixed)
    ("ingest", names.INPUTS, names.ACTIVITY),
    ("grouper", (names.ACTIVITY,), names.GROUPED),
    ("aggregator", (names.GROUPED,), names.POINTS),
    ("indicators", (names.GROUPED,), names.INDICATORS),
    ("settlement", (names.POINTS, names.INDICATORS), None),
)


async def _hop(bootstrap: str, service: str, inputs: tuple[str, ...], output: str | None, ready, settled) -> None:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    from services.common.config import settings
    from services.common.plain_input import GROUP_TIMING
    from services.common.runtime import CHUNK

    s = settings()
    take = s.isf_batch if service == "ingest" else s.isf_batch_messages
    consumer = AIOKafkaConsumer(
        *(PREFIX + t for t in inputs),
        bootstrap_servers=bootstrap,
        group_id=f"{PREFIX}{service}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=s.isf_fetch_max_wait_ms,
        **GROUP_TIMING,  # the services' consumer groups
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=10, acks=1)
    await consumer.start()
    await producer.start()
    try:
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=200)
        ready.value = 1
        while True:
            batch = await consumer.getmany(timeout_ms=1000, max_records=take)
            items: list = []
            for records in batch.values():
                for r in records:
                    try:
                        got = json.loads(r.value)
                    except ValueError:
                        continue  # the feed's deliberately broken events: ingest would dead-letter them
                    if service == "ingest":
                        items.append(got)
                    else:
                        items += got
            if output is not None:
                for i in range(0, len(items), CHUNK):
                    value = json.dumps(items[i : i + CHUNK], separators=(",", ":")).encode()
                    await (await producer.send(PREFIX + output, value, key=str(i).encode()))
            else:
                with settled.get_lock():
                    settled.value += len(items)
            if batch:
                await consumer.commit({tp: records[-1].offset + 1 for tp, records in batch.items()})
    finally:
        await producer.stop()
        await consumer.stop()


def _run_hop(bootstrap: str, service: str, inputs: tuple[str, ...], output: str | None, ready, settled) -> None:
    asyncio.run(_hop(bootstrap, service, inputs, output, ready, settled))


async def _send(bootstrap: str, values: list[bytes]) -> None:
    """As the bench sends the pipeline's flood (`runner.produce`): each event to its input topic."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=10, acks=1, max_request_size=4_000_000)
    await producer.start()
    try:
        for i, raw in enumerate(values):
            topic = names.PRESCRIPTIONS if b'"prescription/v1"' in raw[:4096] else names.EPISODES
            await producer.send(PREFIX + topic, raw, key=str(i).encode())
        await producer.flush()
    finally:
        await producer.stop()


def bench_raw_chain(bootstrap: str, values: list[bytes], broker_pid: int | None = None) -> dict:
    """Events/s through the chain: from the first event sent to the last item settled (both ledgers' items),
    as the pipeline's flood is timed; the chain's processes, and their CPU per event with the broker's
    (`broker_pid`) as the pipeline's flood counts its own."""
    from services.common.infra import create_topics

    from .common import _cpu_s

    create_topics(bootstrap, names=tuple(PREFIX + t for t in (*names.INPUTS, *(h[2] for h in HOPS if h[2]))))
    expected = 0
    for v in values:
        try:
            json.loads(v)
            expected += 2  # one item for each ledger
        except ValueError:
            pass
    ctx = mp.get_context("spawn")
    settled = ctx.Value("q", 0)
    readies = [ctx.Value("b", 0) for _ in HOPS]
    procs = [
        ctx.Process(target=_run_hop, args=(bootstrap, service, inputs, output, ready, settled), daemon=True)
        for (service, inputs, output), ready in zip(HOPS, readies)
    ]
    for p in procs:
        p.start()
    try:
        deadline = time.monotonic() + 120
        while not all(r.value for r in readies):
            if time.monotonic() > deadline or not all(p.is_alive() for p in procs):
                raise RuntimeError("the raw chain's consumers did not all join their groups")
            time.sleep(0.2)
        watched: dict[str, list[int]] = {
            "chain": [p.pid for p in procs if p.pid],
            "broker": [broker_pid] if broker_pid else [],
        }
        cpu0 = {k: sum(_cpu_s(pid) for pid in pids) for k, pids in watched.items()}
        t0 = time.monotonic()
        asyncio.run(_send(bootstrap, values))
        deadline = time.monotonic() + max(300, len(values) / 100)
        while settled.value < expected and time.monotonic() < deadline:
            time.sleep(0.02)
        elapsed = time.monotonic() - t0
        cpu = {k: (sum(_cpu_s(pid) for pid in pids) - cpu0[k]) / len(values) * 1e6 for k, pids in watched.items()}
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.join(10)
    return {
        "value": round(len(values) / elapsed),
        "processes": len(procs),
        "complete": settled.value >= expected,
        "events": len(values),
        "cpu_us_per_event": {**{k: round(v) for k, v in cpu.items()}, "all": round(sum(cpu.values()))},
    }
