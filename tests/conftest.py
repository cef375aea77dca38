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

NORDDRG = Path(os.environ.get("NORDDRG") or Path(__file__).resolve().parent.parent.parent / "shared" / "norddrg")
KAFKA_IMAGE = "apache/kafka:3.8.0"  # the compose file's broker
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


def apache_kafka_env(host: str, port: int) -> dict[str, str]:
    """The whole KRaft set for the apache/kafka image (any KAFKA_* setting replaces all of its defaults), one
    broker listening for the test process on `host:port` (published to the same port number)."""
    return {
        "CLUSTER_ID": "aXNmLXN0cmVhbS10ZXN0cw",
        "KAFKA_NODE_ID": "1",
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9093",
        "KAFKA_LISTENERS": f"HOST://:{port},CONTROLLER://:9093",
        "KAFKA_ADVERTISED_LISTENERS": f"HOST://{host}:{port}",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "HOST:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "KAFKA_INTER_BROKER_LISTENER_NAME": "HOST",
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_NUM_PARTITIONS": "4",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
        "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
    }


def apache_kafka_container():
    """Apache Kafka (the apache/kafka image, KRaft) in a container, advertising the port it is published on."""
    from testcontainers.core.container import DockerContainer

    from services.common.infra import free_port

    port = free_port()
    box = DockerContainer(KAFKA_IMAGE).with_bind_ports(port, port)
    host = box.get_docker_client().host()  # the Docker host: known before the container exists
    for name, value in apache_kafka_env(host, port).items():
        box.with_env(name, value)
    return box, port


@pytest.fixture(scope="session")
def containers():
    """Apache Kafka and Redis in containers for the whole session; their addresses in the environment, where
    `LocalInfra` takes them instead of starting its own."""
    from testcontainers.community.redis import RedisContainer
    from testcontainers.core.waiting_utils import wait_for_logs

    kafka, kafka_port = apache_kafka_container()
    redis_box = RedisContainer(REDIS_IMAGE).with_command("redis-server --appendonly yes --appendfsync always")
    mp = pytest.MonkeyPatch()
    try:
        kafka.start()
        wait_for_logs(kafka, "Kafka Server started", timeout=120)
        redis_box.start()
        mp.setenv("KAFKA_BOOTSTRAP", f"{kafka.get_docker_client().host()}:{kafka_port}")
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
