"""Configuration: typed, read once, a bad value stops a service at start naming the variable; security settings
(Redis password, Kafka TLS/SASL, pseudonym key, monitor tokens) come from it."""

import os
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from isf.access import Role, parse_tokens, role_of
from services.common import bootstrap, config


def test_redis_password_from_a_file_is_added_to_the_url(tmp_path, monkeypatch):
    (tmp_path / "pw").write_text("s3cr@t\n")
    monkeypatch.setenv("REDIS_URL", "redis://10.0.0.5:6380/1")
    monkeypatch.setenv("REDIS_PASSWORD_FILE", str(tmp_path / "pw"))
    assert config.redis_url() == "redis://:s3cr%40t@10.0.0.5:6380/1"


def test_kafka_sasl_ssl_settings(tmp_path, monkeypatch):
    (tmp_path / "pw").write_text("kafka-pw")
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "sasl_ssl")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "isf")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD_FILE", str(tmp_path / "pw"))
    assert config.kafka_client_kwargs() == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "isf",
        "sasl_plain_password": "kafka-pw",
    }
    creds = bootstrap.faust_credentials()
    assert type(creds).__name__ == "SASLCredentials" and creds.username == "isf"
    plain = bootstrap.aiokafka_client_kwargs()  # ingest's input consumer: the same settings, TLS as a context
    assert plain.pop("ssl_context").verify_mode == ssl.CERT_REQUIRED
    assert plain == config.kafka_client_kwargs()
    monkeypatch.delenv("KAFKA_SASL_USERNAME")
    config.settings.cache_clear()
    with pytest.raises(config.ConfigError, match="SASL needs"):
        config.kafka_client_kwargs()
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "carrier-pigeon")
    with pytest.raises(config.ValidationError) as bad:
        config.Settings()
    assert config.describe(bad.value).startswith("configuration error: KAFKA_SECURITY_PROTOCOL='CARRIER-PIGEON'")


def test_the_pseudonym_key_comes_from_configuration_never_a_default(tmp_path, monkeypatch):
    for name in ("ISF_PSEUDONYM_KEY", "ISF_PSEUDONYM_KEY_FILE", "ISF_EMBEDDED"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(config.ConfigError, match="no pseudonymisation key"):
        config.pseudonym_key()
    (tmp_path / "key").write_bytes(b"from-a-file\n")
    monkeypatch.setenv("ISF_PSEUDONYM_KEY_FILE", str(tmp_path / "key"))
    config.settings.cache_clear()
    assert config.pseudonym_key() == b"from-a-file"


def test_monitor_tokens_are_configured_and_checked():
    tokens = parse_tokens("a" * 20 + "=national," + "b" * 20 + "=rhf:vest," + "c" * 20 + "=hf:ous")
    assert role_of(tokens, "b" * 20) == Role("rhf", "vest")
    assert role_of(tokens, None) is None and role_of(tokens, "b" * 19) is None
    assert Role("rhf", "vest").sees_hf("hbe") and not Role("rhf", "vest").sees_hf("ous")
    with pytest.raises(ValueError, match="at least 16"):
        parse_tokens("short=national")
    with pytest.raises(ValueError, match="unknown role"):
        parse_tokens("d" * 20 + "=rhf:atlantis")


def test_configuration_is_typed_and_read_once(monkeypatch):
    monkeypatch.setenv("ISF_BATCH", "250")
    monkeypatch.setenv("ISF_BATCH_WITHIN", "0.2")
    monkeypatch.setenv("REDIS_CLUSTER", "1")
    monkeypatch.setenv("ISF_LOG_FORMAT", "json")
    monkeypatch.setenv("ISF_WEB_PORT", "")  # empty is unset
    s = config.settings()
    assert (s.isf_batch, s.isf_batch_within, s.redis_cluster, s.isf_log_format, s.isf_web_port) == (
        250,
        0.2,
        True,
        "json",
        0,
    )
    monkeypatch.setenv("ISF_BATCH", "9")
    assert config.settings().isf_batch == 250


@pytest.mark.parametrize(
    "variable, value, words",
    [
        ("ISF_BATCH", "abc", "ISF_BATCH='abc': Input should be a valid integer"),
        ("ISF_BATCH", "0", "ISF_BATCH='0': Input should be greater than 0"),
        ("ISF_BATCH_WITHIN", "soon", "ISF_BATCH_WITHIN='soon': Input should be a valid number"),
        ("REDIS_CLUSTER", "perhaps", "REDIS_CLUSTER='perhaps': Input should be a valid boolean"),
        ("ISF_LOG_FORMAT", "xml", "ISF_LOG_FORMAT='xml': Input should be 'text' or 'json'"),
        ("ISF_WEB_PORT", "70000", "ISF_WEB_PORT='70000': Input should be less than or equal to 65535"),
    ],
)
def test_a_bad_value_is_named_with_what_it_should_be(monkeypatch, variable, value, words):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SystemExit) as stop:
        config.settings()
    assert stop.value.code == config.EX_CONFIG
    with pytest.raises(config.ValidationError) as bad:
        config.Settings()
    assert config.describe(bad.value).startswith(f"configuration error: {words}")


ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "service, env",
    [
        ("grouper", {"ISF_BATCH": "abc"}),
        ("settlement", {"ISF_STATEMENT_INTERVAL": "-1"}),
        ("ingest", {"ISF_EMBEDDED": "0"}),  # no pseudonym key
        ("monitor", {}),  # no monitor tokens
        ("monitor", {"ISF_MONITOR_TOKENS": "tooshort=national"}),
    ],
)
def test_a_service_with_bad_configuration_stops_at_start_with_one_line_and_exit_78(service, env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ISF_", "KAFKA_", "REDIS_"))}
    done = subprocess.run(
        [sys.executable, "-m", f"services.{service}.app", "worker"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 78, done.stderr
    assert len(lines) == 1 and lines[0].startswith("isf: configuration error: ") and "Traceback" not in done.stderr
    assert next(iter(env), "ISF_MONITOR_TOKENS" if service == "monitor" else "ISF_PSEUDONYM_KEY") in lines[0]
    assert "tooshort" not in done.stderr  # a secret is never echoed
