"""Shared fixtures, and which infrastructure the integration tests run on:
- `KAFKA_BOOTSTRAP` / `REDIS_URL` if set (the operator's own; never wiped);
- else Apache Kafka (KRaft) and Redis from testcontainers if a Docker engine answers: started once per
  session, emptied before each integration test (topics, consumer groups, keys), since the tests compare
  what one test fed with replay;
- else a local Tansu broker and redis-server per test (`services.common.infra.LocalInfra`).
The choice is printed in pytest's header."""

import os
import time
from pathlib import Path

import pytest

NORDDRG = Path(__file__).resolve().parent.parent.parent / "shared" / "norddrg"
KAFKA_IMAGE = "confluentinc/cp-kafka:7.6.0"  # Apache Kafka as Confluent ships it; KRaft from 7.0
REDIS_IMAGE = "redis:7"


def docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


def choose_infrastructure() -> str:
    if os.environ.get("KAFKA_BOOTSTRAP") or os.environ.get("REDIS_URL"):
        return "given"
    return "testcontainers" if docker_answers() else "local"


INFRA = choose_infrastructure()
DESCRIBED = {
    "given": "the given KAFKA_BOOTSTRAP / REDIS_URL",
    "testcontainers": f"testcontainers ({KAFKA_IMAGE} in KRaft mode, {REDIS_IMAGE})",
    "local": "local Tansu broker and redis-server, started per test",
}


def pytest_report_header(config):
    return f"integration infrastructure: {DESCRIBED[INFRA]}"


@pytest.fixture(scope="session")
def norddrg() -> Path:
    if not (NORDDRG / "TestData.csv").exists():
        pytest.skip(f"reference NordDRG data not found at {NORDDRG}: conformance not run")
    return NORDDRG


@pytest.fixture(autouse=True)
def fresh_settings():
    """Services read their configuration once; a test that sets variables reads them anew."""
    from services.common.config import settings

    settings.cache_clear()
    yield
    settings.cache_clear()


@pytest.fixture(scope="session")
def containers():
    """Apache Kafka and Redis in containers for the whole session; their addresses in the environment, where
    `LocalInfra` takes them instead of starting its own."""
    from testcontainers.community.kafka import KafkaContainer
    from testcontainers.community.redis import RedisContainer

    kafka = KafkaContainer(KAFKA_IMAGE).with_kraft()
    redis_box = RedisContainer(REDIS_IMAGE).with_command("redis-server --appendonly yes --appendfsync always")
    mp = pytest.MonkeyPatch()
    try:
        kafka.start(timeout=120)
        redis_box.start()
        mp.setenv("KAFKA_BOOTSTRAP", kafka.get_bootstrap_server())
        mp.setenv("REDIS_URL", f"redis://{redis_box.get_container_host_ip()}:{redis_box.get_exposed_port(6379)}/0")
        yield kafka, redis_box
    finally:
        mp.undo()
        for box in (redis_box, kafka):
            try:
                box.stop()
            except Exception:  # never started
                pass


def empty(bootstrap: str, redis_client) -> None:
    """Every topic, consumer group and key gone, waiting until the broker has finished deleting."""
    from kafka.admin import KafkaAdminClient

    redis_client.flushall()
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="isf-test-reset")
    try:
        groups = [g[0] for g in admin.list_consumer_groups()]
        if groups:
            admin.delete_consumer_groups(groups)
        topics = [t for t in admin.list_topics() if not t.startswith("_")]
        if topics:
            admin.delete_topics(topics)
        deadline = time.monotonic() + 60
        while any(not t.startswith("_") for t in admin.list_topics()):
            if time.monotonic() > deadline:
                raise TimeoutError("the broker did not delete the previous test's topics within 60 s")
            time.sleep(0.2)
    finally:
        admin.close()


@pytest.fixture(autouse=True)
def integration_infrastructure(request):
    if INFRA != "testcontainers" or request.node.get_closest_marker("integration") is None:
        yield
        return
    kafka, redis_box = request.getfixturevalue("containers")
    empty(kafka.get_bootstrap_server(), redis_box.get_client())
    yield
