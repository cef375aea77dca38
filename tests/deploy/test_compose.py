"""The compose pilot as docker-compose 1.29 renders it (no engine needed): restarts, health, order, ports, secrets."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT, SERVICES, load_make_secrets

APPS = set(SERVICES)


def render(docker_compose: str, folder: Path = ROOT) -> dict:
    out = subprocess.run(
        [docker_compose, "--project-directory", str(folder), "-f", str(folder / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return yaml.safe_load(out.stdout)


def published_off_loopback(config: dict) -> list[str]:
    """Published ports not bound to 127.0.0.1, as `service: port`."""
    bad = []
    for name, svc in config["services"].items():
        for port in svc.get("ports", []):
            text = port if isinstance(port, str) else f"{port.get('host_ip', '')}:{port.get('published')}"
            if not text.startswith("127.0.0.1:"):
                bad.append(f"{name}: {text}")
    return bad


@pytest.fixture(scope="module")
def config(docker_compose) -> dict:
    return render(docker_compose)


def secrets_of(svc: dict) -> set[str]:
    return {s["source"] if isinstance(s, dict) else s for s in svc.get("secrets", [])}


def test_compose_runs_exactly_the_six_services_plus_kafka_redis_and_the_topic_job(config):
    assert set(config["services"]) == APPS | {"kafka", "redis", "topics"}
    for name in APPS:
        command = config["services"][name]["command"]
        assert command == ["python", "-m", f"services.{name}.app", "worker", "-l", "info"]


def test_every_long_running_container_restarts_after_exit_70_and_the_topic_job_does_not(config):
    for name, svc in config["services"].items():
        assert svc["restart"] == ("no" if name == "topics" else "unless-stopped"), name


def test_every_service_is_health_checked_on_healthz_and_starts_after_kafka_redis_and_topics(config):
    for name in APPS:
        svc = config["services"][name]
        assert any("/healthz" in part for part in svc["healthcheck"]["test"]), name
        assert svc["depends_on"] == {
            "kafka": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
            "topics": {"condition": "service_completed_successfully"},
        }, name
        assert svc["environment"]["ISF_WEB_PORT"] in " ".join(svc["healthcheck"]["test"])
    for name in ("kafka", "redis"):
        assert config["services"][name]["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name
    assert config["services"]["topics"]["depends_on"] == {"kafka": {"condition": "service_healthy"}}


def test_the_topic_job_creates_the_topics_through_the_one_entry_point(config):
    command = config["services"]["topics"]["command"]
    assert command[:3] == ["python", "-m", "services.common.topics"]
    assert (ROOT / "services" / "common" / "topics.py").exists()
    assert "--partitions" in command


def test_only_the_monitor_and_kafkas_host_listener_are_published_and_only_on_loopback(config):
    published = {name for name, svc in config["services"].items() if svc.get("ports")}
    assert published == {"monitor", "kafka"}
    assert published_off_loopback(config) == []


def test_the_monitor_publishes_its_api_port_and_not_its_ops_port(config):
    monitor = config["services"]["monitor"]
    env = monitor["environment"]
    targets = {str(p["target"] if isinstance(p, dict) else p.rsplit(":", 1)[1]).split("/")[0] for p in monitor["ports"]}
    assert targets == {env["ISF_MONITOR_PORT"]} and env["ISF_WEB_PORT"] != env["ISF_MONITOR_PORT"]


def test_a_port_published_on_every_interface_is_caught(docker_compose, tmp_path):
    (tmp_path / "docker-compose.yml").write_text(
        (ROOT / "docker-compose.yml").read_text().replace('"127.0.0.1:8080:8080"', '"8080:8080"')
    )
    assert published_off_loopback(render(docker_compose, tmp_path)) != []


def test_kafka_runs_kraft_with_the_full_settings_and_advertises_kafka_9092_to_containers(config):
    kafka = config["services"]["kafka"]
    env = kafka["environment"]
    for key in (
        "CLUSTER_ID",
        "KAFKA_NODE_ID",
        "KAFKA_PROCESS_ROLES",
        "KAFKA_CONTROLLER_QUORUM_VOTERS",
        "KAFKA_LISTENERS",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
        "KAFKA_INTER_BROKER_LISTENER_NAME",
        "KAFKA_CONTROLLER_LISTENER_NAMES",
        "KAFKA_LOG_DIRS",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
    ):
        assert str(env.get(key, "")).strip(), key
    advertised = dict(item.split("://", 1) for item in env["KAFKA_ADVERTISED_LISTENERS"].split(","))
    assert advertised[env["KAFKA_INTER_BROKER_LISTENER_NAME"]] == "kafka:9092"
    assert all(addr.startswith(("kafka:", "127.0.0.1:")) for addr in advertised.values())
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert any(v.startswith("kafka-data:" + env["KAFKA_LOG_DIRS"]) for v in kafka["volumes"])
    for name in APPS:
        assert config["services"][name]["environment"]["KAFKA_BOOTSTRAP"] == "kafka:9092"


def test_redis_fsyncs_every_write_on_a_named_volume_and_requires_the_password(config):
    redis = config["services"]["redis"]
    command = " ".join(redis.get("entrypoint", []) + (redis.get("command") or []))
    for flag in (
        "--appendonly yes",
        "--appendfsync always",
        "--maxmemory-policy noeviction",
        "--requirepass",
        "/run/secrets/redis_password",
    ):
        assert flag in command, flag
    assert any(v.startswith("redis-data:/data") for v in redis["volumes"])
    assert {"kafka-data", "redis-data"} <= set(config["volumes"])


def test_each_secret_goes_only_where_it_is_needed(config):
    services = config["services"]
    holders = {secret: {n for n, svc in services.items() if secret in secrets_of(svc)} for secret in config["secrets"]}
    assert holders == {
        "isf_pseudonym_key": {"ingest"},
        "isf_monitor_tokens": {"monitor"},
        "redis_password": APPS | {"redis"},
    }
    assert services["ingest"]["environment"]["ISF_PSEUDONYM_KEY_FILE"] == "/run/secrets/isf_pseudonym_key"
    assert services["monitor"]["environment"]["ISF_MONITOR_TOKENS_FILE"] == "/run/secrets/isf_monitor_tokens"
    for name in APPS:
        assert services[name]["environment"]["REDIS_PASSWORD_FILE"] == "/run/secrets/redis_password"
        assert "REDIS_PASSWORD" not in services[name]["environment"]


def test_the_secret_files_are_the_ones_make_secrets_writes_into_a_git_ignored_folder(config):
    written = set(load_make_secrets().FILES)
    folder = ROOT / "deploy" / "secrets"
    for secret in config["secrets"].values():
        path = Path(secret["file"])
        assert path.parent == folder and path.name in written
    probe = subprocess.run(["git", "check-ignore", "-q", "deploy/secrets/redis_password"], cwd=ROOT)
    assert probe.returncode == 0, "deploy/secrets/ must be git-ignored"


def test_the_services_run_read_only_with_a_writable_tmp_for_fausts_data_directory(config):
    for name in APPS | {"topics"}:
        svc = config["services"][name]
        assert svc["read_only"] is True and "/tmp" in svc["tmpfs"], name


def test_the_compose_file_names_no_secret_value(config):
    text = (ROOT / "docker-compose.yml").read_text()
    assert "REDIS_PASSWORD:" not in text and "ISF_PSEUDONYM_KEY:" not in text and "ISF_MONITOR_TOKENS:" not in text


def test_the_tests_containers_run_the_compose_files_apache_kafka_with_the_same_kraft_settings():
    """Where a Docker engine answers, the integration tests run the pilot's broker (tests/conftest.py)."""
    from tests.conftest import KAFKA_IMAGE, apache_kafka_env

    kafka = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["kafka"]
    assert KAFKA_IMAGE == kafka["image"] and KAFKA_IMAGE.startswith("apache/kafka:")
    env = apache_kafka_env("localhost", 39092)
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "HOST://localhost:39092"
    same = {
        k
        for k in kafka["environment"]
        if "LISTENER" not in k and k not in ("CLUSTER_ID", "KAFKA_CONTROLLER_QUORUM_VOTERS", "KAFKA_LOG_DIRS")
    }
    assert {k: str(kafka["environment"][k]) for k in same} == {k: env[k] for k in same}
    assert set(kafka["environment"]) - set(env) == {"KAFKA_LOG_DIRS"}  # the pilot's volume; a test broker is scratch
