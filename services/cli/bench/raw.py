"""The raw limits on the same broker: plain aiokafka consume -> JSON -> produce, one hop, and a chain of the
services' shape (the same hops, topics and micro-batches, no domain work) as as many processes."""

from __future__ import annotations

import asyncio
import json
import time


def bench_raw_aiokafka(bootstrap: str, values: list[bytes]) -> float:
    """Consume -> json loads/dumps -> produce with plain aiokafka on the same broker: the ceiling."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    from services.common.infra import create_topics

    create_topics(bootstrap, names=("bench.raw-in", "bench.raw-out"))

    async def go() -> float:
        prod = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=262144)
        await prod.start()
        try:
            for i, v in enumerate(values):
                await prod.send("bench.raw-in", v, key=str(i).encode())
            await prod.flush()
            cons = AIOKafkaConsumer(
                "bench.raw-in",
                bootstrap_servers=bootstrap,
                group_id="bench-raw",
                auto_offset_reset="earliest",
                enable_auto_commit=True,
            )
            await cons.start()
            try:
                n, t = 0, None
                while n < len(values):
                    batch = await cons.getmany(timeout_ms=1000, max_records=2000)
                    for records in batch.values():
                        if t is None:
                            t = time.perf_counter()
                        for r in records:
                            try:
                                v = json.dumps(json.loads(r.value)).encode()
                            except ValueError:
                                v = r.value  # the feed's deliberately invalid events
                            await prod.send("bench.raw-out", v, key=r.key)
                            n += 1
                await prod.flush()
                assert t is not None, "a record arrived: values is not empty"
                return n / (time.perf_counter() - t)
            finally:
                await cons.stop()
        finally:
            await prod.stop()

    return asyncio.run(go())
