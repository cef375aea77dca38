"""Service configuration from the environment, and the faust app every service is built on."""
from __future__ import annotations

import os
from pathlib import Path

from isf.pseudonym import DEMO_KEY


class ConfigError(RuntimeError):
    pass


def kafka_bootstrap() -> str:
    return os.environ.get("KAFKA_BOOTSTRAP", "127.0.0.1:9092")


def redis_url() -> str:
    return os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def retain_years() -> int:
    """ISF_RETAIN_YEARS (default 1): years a rule year's state is kept after the year that follows it."""
    return int(os.environ.get("ISF_RETAIN_YEARS", "1"))


def pseudonym_key() -> bytes:
    """ISF_PSEUDONYM_KEY, or the file ISF_PSEUDONYM_KEY_FILE; the demo key only when ISF_EMBEDDED=1."""
    if os.environ.get("ISF_PSEUDONYM_KEY"):
        return os.environ["ISF_PSEUDONYM_KEY"].encode()
    if os.environ.get("ISF_PSEUDONYM_KEY_FILE"):
        data = Path(os.environ["ISF_PSEUDONYM_KEY_FILE"]).read_bytes().strip()
        if data:
            return data
    if os.environ.get("ISF_EMBEDDED") == "1":
        return DEMO_KEY
    raise ConfigError("no pseudonymisation key: set ISF_PSEUDONYM_KEY or ISF_PSEUDONYM_KEY_FILE "
                      "(only the embedded default, ISF_EMBEDDED=1, runs with the demo key)")


def _short_fetch_wait() -> None:
    """faust creates its consumer with fetch_max_wait_ms=1500, fixed. Tansu answers a fetch only when
    that wait ends if too little data has arrived, which adds up to 1.5 s per stage at low rates.
    ISF_FETCH_MAX_WAIT_MS (default 100) replaces it before the consumer starts."""
    from faust.transport.drivers import aiokafka as driver

    if getattr(driver.AIOKafkaConsumerThread, "_isf_patched", False):
        return
    original = driver.AIOKafkaConsumerThread._create_worker_consumer
    wait_ms = int(os.environ.get("ISF_FETCH_MAX_WAIT_MS", "100"))

    def create(self, transport):
        consumer = original(self, transport)
        consumer._fetch_max_wait_ms = wait_ms
        return consumer
    driver.AIOKafkaConsumerThread._create_worker_consumer = create
    driver.AIOKafkaConsumerThread._isf_patched = True


def make_app(name: str, web_port: int | None = None):
    import faust

    _short_fetch_wait()
    port = web_port or int(os.environ.get("ISF_WEB_PORT", "0") or 0)
    return faust.App(
        name,
        broker=f"kafka://{kafka_bootstrap()}",
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
        web_port=port or 6066,
        web_bind="127.0.0.1",
        producer_linger_ms=5,
        stream_wait_empty=False,
    )
