"""Service configuration from the environment, and the faust app every service is built on."""
from __future__ import annotations

import os
from pathlib import Path

from isf.pseudonym import DEMO_KEY


class ConfigError(RuntimeError):
    pass


def kafka_bootstrap() -> str:
    return os.environ.get("KAFKA_BOOTSTRAP", "127.0.0.1:9092")


def _secret(name: str) -> str | None:
    """A secret from NAME or from the file NAME_FILE (for mounted secrets); never logged."""
    if os.environ.get(name):
        return os.environ[name]
    if os.environ.get(f"{name}_FILE"):
        return Path(os.environ[f"{name}_FILE"]).read_text(encoding="utf-8").strip()
    return None


def redis_url() -> str:
    """REDIS_URL (`redis://[:password@]host:port/db`, or `rediss://` for TLS); REDIS_PASSWORD[_FILE] adds a password."""
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    password = _secret("REDIS_PASSWORD")
    if password and "@" not in url:
        from urllib.parse import quote
        scheme, rest = url.split("://", 1)
        url = f"{scheme}://:{quote(password, safe='')}@{rest}"
    return url


SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")


def kafka_client_kwargs() -> dict:
    """kafka-python settings for TLS and SASL from the environment: KAFKA_SECURITY_PROTOCOL, KAFKA_SSL_CAFILE,
    KAFKA_SASL_MECHANISM (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD[_FILE]."""
    protocol = os.environ.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT").upper()
    if protocol not in SECURITY_PROTOCOLS:
        raise ConfigError(f"KAFKA_SECURITY_PROTOCOL must be one of {', '.join(SECURITY_PROTOCOLS)}, got {protocol!r}")
    out: dict = {"security_protocol": protocol}
    if "SSL" in protocol and os.environ.get("KAFKA_SSL_CAFILE"):
        out["ssl_cafile"] = os.environ["KAFKA_SSL_CAFILE"]
    if protocol.startswith("SASL"):
        user, password = os.environ.get("KAFKA_SASL_USERNAME"), _secret("KAFKA_SASL_PASSWORD")
        if not user or not password:
            raise ConfigError("SASL needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE)")
        out.update(sasl_mechanism=os.environ.get("KAFKA_SASL_MECHANISM", "PLAIN").upper(),
                   sasl_plain_username=user, sasl_plain_password=password)
    return out


def faust_credentials():
    """The same settings as faust broker credentials (None for plaintext)."""
    kw = kafka_client_kwargs()
    protocol = kw["security_protocol"]
    if protocol == "PLAINTEXT":
        return None
    import ssl

    import faust
    context = ssl.create_default_context(cafile=kw.get("ssl_cafile")) if "SSL" in protocol else None
    if protocol.startswith("SASL"):
        return faust.SASLCredentials(username=kw["sasl_plain_username"], password=kw["sasl_plain_password"],
                                     mechanism=kw["sasl_mechanism"], ssl_context=context)
    return faust.SSLCredentials(context)


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
        broker_credentials=faust_credentials(),
    )
