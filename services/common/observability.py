"""What an operator sees of a worker on its web port: `/metrics` (Prometheus text: faust's own sensor and
ours), `/healthz` (the process answers) and `/ready` (partitions assigned, and the checks the bootstrap hands
over answer: Redis and the broker)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from faust.sensors.prometheus import setup_prometheus_sensors
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

SERVICE = ""  # one service per worker process: the label of its metrics, set by `serve_operations`
EVENTS = Counter("isf_events", "Events handled by outcome", ["service", "outcome"], registry=None)
BATCH = Histogram(
    "isf_batch_size",
    "Messages per micro-batch an agent took",
    ["service"],
    registry=None,
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000),
)
REDIS = Histogram(
    "isf_redis_seconds",
    "Redis round trips (one pipeline of scripts)",
    ["service", "script"],
    registry=None,
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
LAG = Gauge(
    "isf_consumer_lag",
    "Messages on an assigned partition not yet committed",
    ["service", "topic", "partition"],
    registry=None,
)
TIMERS = Counter("isf_timer_runs", "Runs of a periodic job that did its work", ["service", "timer"], registry=None)
OURS = (EVENTS, BATCH, REDIS, LAG, TIMERS)
CHECK_TIMEOUT = 2.0


def count(outcome: str, n: int = 1) -> None:
    if n:
        EVENTS.labels(SERVICE, outcome).inc(n)


def timer_ran(timer: str) -> None:
    TIMERS.labels(SERVICE, timer).inc()


def batch_taken(n: int) -> None:
    BATCH.labels(SERVICE).observe(n)


def redis_round_trip(script: str, seconds: float) -> None:
    REDIS.labels(SERVICE, script).observe(seconds)


class Input(Protocol):
    """What lag and readiness need of a worker's input."""

    @property
    def consumes(self) -> bool: ...

    def assignment(self) -> set: ...

    def end(self, tp) -> int | None: ...

    def next_offset(self, tp) -> int: ...


class FaustInput:
    """What lag and readiness need of a worker whose agents consume through faust."""

    def __init__(self, app):
        self.app = app

    @property
    def consumes(self) -> bool:
        return bool(self.app.agents)

    def assignment(self) -> set:
        # faust's leader election topic carries no work
        return {tp for tp in self.app.consumer.assignment() if "__assignor" not in tp.topic}

    def end(self, tp) -> int | None:
        return self.app.consumer.highwater(tp)

    def next_offset(self, tp) -> int:
        committed = self.app.consumer._committed_offset.get(tp)  # faust keeps the last processed offset per partition
        return committed + 1 if committed is not None else 0


def measure_lag(service: str, source: Input) -> None:
    """Per assigned partition: its end offset (highwater) minus the next offset this worker will commit."""
    LAG.clear()
    for tp in source.assignment():
        end = source.end(tp)
        if end is not None:
            LAG.labels(service, tp.topic, str(tp.partition)).set(max(0, end - source.next_offset(tp)))


# a dependency's check: None when it answers well, else the reason it does not
Check = Callable[[], Awaitable[str | None]]
Probe = Callable[[], Awaitable[tuple[bool, dict]]]


async def readiness(source: Input, checks: Mapping[str, Check]) -> tuple[bool, dict]:
    """Ready when this worker has partitions (if it consumes anything) and every check (Redis, the broker)
    answers well within CHECK_TIMEOUT seconds; otherwise the reasons, by what is not ready."""
    reasons = {}
    if source.consumes and not source.assignment():
        reasons["partitions"] = "no partitions assigned yet"
    for name, check in checks.items():
        try:
            problem = await asyncio.wait_for(check(), CHECK_TIMEOUT)
        except Exception as exc:
            problem = f"no answer: {type(exc).__name__}"
        if problem:
            reasons[name] = problem
    return not reasons, reasons


def serve_operations(app, service: str, source: Input, ready: Probe) -> None:
    """Register the three pages and the lag sampler on a faust app: lag of `source`, readiness as `ready` says."""
    global SERVICE

    SERVICE = service
    registry = CollectorRegistry()
    for metric in OURS:
        registry.register(metric)
    setup_prometheus_sensors(app, pattern="/metrics", registry=registry)

    @app.page("/healthz")
    async def healthz(web, request):
        return web.json({"status": "alive", "service": service, "time": time.time()})

    @app.page("/ready")
    async def ready_page(web, request):
        ok, reasons = await ready()
        return web.json(
            {"ready": ok, "service": service, **({"reasons": reasons} if reasons else {})}, status=200 if ok else 503
        )

    @app.timer(5.0)
    async def sample_lag():
        try:
            measure_lag(service, source)
        except Exception:  # lag is information: never a reason to stop a worker
            LAG.clear()
