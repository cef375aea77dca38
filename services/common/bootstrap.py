"""The composition root: the one place that turns the settings (`config`) into the objects a service runs on.

It configures the rule sources, tunes the collector, builds the Redis clients and the store, the faust app, the
worker's input and its ops server (/metrics, /healthz, /ready), and hands each what it needs: the store its
values (event TTL, retention), the ops server its input and readiness probe, the input its consumer settings.
A service's `app.py` calls `service()` once at import and otherwise holds only its handlers; the command-line
package uses the same builders. Plain values (a batch size, the pseudonym key) come from `config` directly.
"""

from __future__ import annotations

import functools
import os
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import faust
import redis
import redis.asyncio as aredis
from aiokafka.helpers import create_ssl_context
from faust.transport.drivers import aiokafka as faust_kafka

from isf.rules import use_sources

from . import config, logs, observability, runtime
from .config import Settings
from .gc_tuning import tune_gc
from .plain_input import PlainInput
from .redis import RedisStore


def configure_rules(environ: Mapping[str, str] = os.environ) -> None:
    """Hand the environment's rule sources to the domain (isf.rules reads no environment itself)."""
    weights, definitions = config.rule_sources(environ)
    use_sources(weights, definitions, config.definition_options(environ))


def redis_client(s: Settings | None = None):
    """A synchronous Redis client; a cluster client on REDIS_CLUSTER=1 (REDIS_URL naming any node)."""
    s = s or config.settings()
    if s.redis_cluster:
        return redis.RedisCluster.from_url(config.redis_url())
    return redis.Redis.from_url(config.redis_url())


def async_redis_client(s: Settings | None = None):
    """The asyncio twin of `redis_client`."""
    s = s or config.settings()
    if s.redis_cluster:
        return aredis.RedisCluster.from_url(config.redis_url())
    return aredis.from_url(config.redis_url())


def redis_store(client, s: Settings | None = None, clock=None) -> RedisStore:
    """The Redis store over `client`, with ISF_EVENT_TTL and ISF_RETAIN_YEARS."""
    s = s or config.settings()
    return RedisStore(client, event_ttl=s.isf_event_ttl, retain_years=s.isf_retain_years, clock=clock)


def aiokafka_client_kwargs() -> dict:
    """The Kafka client settings (`config.kafka_client_kwargs`) for a plain aiokafka client, which takes an SSL
    context, not a CA file."""
    kw = config.kafka_client_kwargs()
    if "ssl_cafile" in kw or "SSL" in kw["security_protocol"]:
        kw["ssl_context"] = create_ssl_context(cafile=kw.pop("ssl_cafile", None))
    return kw


def faust_credentials() -> faust.SASLCredentials | faust.SSLCredentials | None:
    """The same settings as faust broker credentials (None for plaintext)."""
    kw = config.kafka_client_kwargs()
    protocol = kw["security_protocol"]
    if protocol == "PLAINTEXT":
        return None
    context = ssl.create_default_context(cafile=kw.get("ssl_cafile")) if "SSL" in protocol else None
    if protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=kw["sasl_plain_username"],
            password=kw["sasl_plain_password"],
            mechanism=kw["sasl_mechanism"],
            ssl_context=context,
        )
    return faust.SSLCredentials(context)


def _short_fetch_wait(wait_ms: int) -> None:
    """faust creates its consumer with fetch_max_wait_ms=1500, fixed. Tansu answers a fetch only when
    that wait ends if too little data has arrived, which adds up to 1.5 s per stage at low rates.
    ISF_FETCH_MAX_WAIT_MS (default 100) replaces it before the consumer starts."""
    consumer_thread = faust_kafka.AIOKafkaConsumerThread
    if getattr(consumer_thread, "_isf_patched", False):
        return
    original = consumer_thread._create_worker_consumer

    def create(self, transport):
        consumer = original(self, transport)
        consumer._fetch_max_wait_ms = wait_ms
        return consumer

    setattr(consumer_thread, "_create_worker_consumer", create)  # noqa: B010 (replacing a method)
    setattr(consumer_thread, "_isf_patched", True)  # noqa: B010 (a mark of our own on faust's class)


def faust_app(name: str, s: Settings, producer_only: bool = False) -> faust.App:
    """A faust app with the project's settings and our logging; faust's own debug pages (router, tables, graph,
    stats) are off. A `producer_only` app consumes nothing through faust and joins no consumer group (ingest
    reads its input with `plain_input`)."""
    if s.isf_log_format == "json":
        logs.banner_as_a_log_line()
    app = faust.App(
        name,
        broker=f"kafka://{s.kafka_bootstrap}",
        store="memory://",
        topic_partitions=4,
        topic_replication_factor=1,
        topic_allow_declare=True,
        # Tansu joins a group in about half the rebalance timeout (STACK.md): keep it short.
        broker_session_timeout=10.0,
        broker_rebalance_timeout=10.0,
        broker_heartbeat_interval=1.0,
        broker_commit_interval=1.0,
        consumer_auto_offset_reset="earliest",
        web_port=s.isf_web_port or 6066,
        web_bind=s.isf_web_bind,
        web_router_enabled=False,
        web_tables_enabled=False,
        web_graph_enabled=False,
        web_stats_enabled=False,
        web_metrics_enabled=False,
        producer_linger_ms=5,
        stream_wait_empty=False,
        # faust buffers up to this many unprocessed messages per stream (its default 4 096): of array messages
        # that is millions of items (a worker grew to 1.4 GB behind a million-event backlog)
        stream_buffer_maxsize=4 * s.isf_batch_messages,
        broker_credentials=faust_credentials(),
        logging_config=logs.logging_config(name.removeprefix("isf-"), s.isf_log_format),
        Worker=logs.quiet_worker(),
    )
    app.producer_only = producer_only
    return app


def redis_answers(client) -> observability.Check:
    """Readiness check: Redis answers a PING."""

    async def check() -> str | None:
        await client.ping()
        return None

    return check


def broker_answers(app) -> observability.Check:
    """Readiness check: the broker answers a metadata request on the app's producer connection."""

    async def check() -> str | None:
        client = app.producer._ensure_producer().client
        return None if await client.force_metadata_update() else "metadata request failed"

    return check


@dataclass(frozen=True)
class Service:
    """What a service's handlers run on: its faust app, settings, store and input, built by `service`."""

    name: str  # grouper, ingest, ...: the label of its logs, metrics and worker stats
    app: faust.App
    settings: Settings
    store: RedisStore
    source: observability.Input  # what the ops server reports lag and readiness of
    ready: observability.Probe  # the ops server's /ready: partitions, Redis and the broker
    sync_redis: Callable[[], Any]  # a new synchronous client (whole-state reads): redis.Redis, or redis.RedisCluster

    def topic(self, *names: str):
        """A topic (or several, consumed as one) of raw bytes: the handlers parse and dump JSON themselves."""
        return self.app.topic(*names, key_serializer="raw", value_serializer="raw")

    def batches(self, stream):
        """The stream in micro-batches of ISF_BATCH_MESSAGES messages, waiting at most ISF_BATCH_WITHIN."""
        return runtime.batches(stream, self.settings.isf_batch_messages, self.settings.isf_batch_within)

    def plain_input(self) -> PlainInput:
        """The service's own consumer, when `service` was given `plain_input` topics."""
        assert isinstance(self.source, PlainInput), "service() builds a PlainInput only for plain_input topics"
        return self.source

    def set_aside(self, input_topic: str) -> runtime.SetAside:
        """Where this service's stage puts the items of `input_topic` it cannot process."""
        return runtime.SetAside(self.app, self.name, input_topic, self.store)


def service(name: str, *, plain_input: tuple[str, ...] = (), worker_stats: bool = True) -> Service:
    """Everything service `name` runs on, its faust app named `isf-<name>`. With `plain_input` topics, the app is
    producer-only and the service reads them with a `PlainInput` of the group `isf-<name>` (`Service.source`);
    `worker_stats` flushes the service's processed counts to Redis once a second (`runtime.track`). A bad setting
    ends the process here (exit 78)."""
    s = config.settings()
    configure_rules()
    _short_fetch_wait(s.isf_fetch_max_wait_ms)
    tune_gc()
    app = faust_app(f"isf-{name}", s, producer_only=bool(plain_input))
    client = async_redis_client(s)
    store = redis_store(client, s)
    source: observability.Input = observability.FaustInput(app)
    if plain_input:
        source = PlainInput(
            f"isf-{name}",
            plain_input,
            client={"bootstrap_servers": s.kafka_bootstrap, **aiokafka_client_kwargs()},
            batch=s.isf_batch,
            within=s.isf_batch_within,
            fetch_max_wait_ms=s.isf_fetch_max_wait_ms,
        )
    checks = {"redis": redis_answers(client), "broker": broker_answers(app)}
    ready = functools.partial(observability.readiness, source, checks)
    observability.serve_operations(app, name, source, ready)
    if worker_stats:
        runtime.track(app, name, store)
    return Service(name, app, s, store, source, ready, functools.partial(redis_client, s))
