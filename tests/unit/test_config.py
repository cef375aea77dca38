"""Security settings come from configuration: Redis password, Kafka TLS/SASL, pseudonym key, monitor tokens."""
import pytest

from isf.access import Role, parse_tokens, role_of
from services.common import config


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
    assert config.kafka_client_kwargs() == {"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
                                            "sasl_plain_username": "isf", "sasl_plain_password": "kafka-pw"}
    creds = config.faust_credentials()
    assert type(creds).__name__ == "SASLCredentials" and creds.username == "isf"
    monkeypatch.delenv("KAFKA_SASL_USERNAME")
    with pytest.raises(config.ConfigError, match="SASL needs"):
        config.kafka_client_kwargs()
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "carrier-pigeon")
    with pytest.raises(config.ConfigError, match="must be one of"):
        config.kafka_client_kwargs()


def test_the_pseudonym_key_comes_from_configuration_never_a_default(tmp_path, monkeypatch):
    for name in ("ISF_PSEUDONYM_KEY", "ISF_PSEUDONYM_KEY_FILE", "ISF_EMBEDDED"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(config.ConfigError, match="no pseudonymisation key"):
        config.pseudonym_key()
    (tmp_path / "key").write_bytes(b"from-a-file\n")
    monkeypatch.setenv("ISF_PSEUDONYM_KEY_FILE", str(tmp_path / "key"))
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
