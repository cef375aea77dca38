"""The settings: every KAFKA_*, REDIS_* and ISF_* variable the services read, typed and read once, and the values
made of them (rule sources, definition options, secrets, client settings). Nothing here builds a client or an app:
`bootstrap` does, from these values.

A bad value stops a service at start with one line naming the variable (exit 78, EX_CONFIG), not a traceback.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, NoReturn
from urllib.parse import quote

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from isf.grouping.tables import FORMATS, PAIR_CATEGORY
from isf.pseudonym import DEMO_KEY
from isf.rules import YEARS

EX_CONFIG = 78


class ConfigError(RuntimeError):
    pass


class Settings(BaseSettings):
    """Field names are the variables' names in lower case (`isf_batch` is ISF_BATCH)."""

    model_config = SettingsConfigDict(case_sensitive=False, env_ignore_empty=True, extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_ssl_cafile: Path | None = None
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_sasl_password_file: Path | None = None
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_password: SecretStr | None = None
    redis_password_file: Path | None = None
    redis_cluster: bool = False
    isf_pseudonym_key: SecretStr | None = None
    isf_pseudonym_key_file: Path | None = None
    isf_embedded: bool = False
    isf_monitor_tokens: SecretStr | None = None
    isf_monitor_tokens_file: Path | None = None
    isf_retain_years: NonNegativeInt = 1
    isf_event_ttl: PositiveInt = 14 * 24 * 3600
    isf_batch: PositiveInt = 500
    isf_batch_within: PositiveFloat = 0.05
    # internal topics carry arrays of up to 200 items per message (runtime.CHUNK): so many messages per batch, and
    # four times as many buffered per stream, keep a worker's memory flat while a backlog waits
    isf_batch_messages: PositiveInt = 8
    isf_fetch_max_wait_ms: NonNegativeInt = 100
    isf_statement_interval: PositiveFloat = 5.0
    isf_view_interval: PositiveFloat = 0.25
    isf_web_port: int = Field(0, ge=0, le=65535)
    isf_web_bind: str = "127.0.0.1"
    # the monitor's public port (API and dashboard); its ops pages stay on ISF_WEB_PORT
    isf_monitor_port: int = Field(8080, ge=0, le=65535)
    isf_monitor_header_timeout: PositiveFloat = 10.0  # seconds for a request's headers (and an idle connection)
    isf_monitor_streams_per_token: PositiveInt = 4
    isf_monitor_streams: PositiveInt = 200
    isf_log_format: Literal["text", "json"] = "text"
    isf_log_dir: Path | None = None

    @field_validator("kafka_security_protocol", "kafka_sasl_mechanism", mode="before")
    @classmethod
    def _any_case(cls, v):
        return v.upper() if isinstance(v, str) else v


def describe(exc: ValidationError) -> str:
    """One line naming each bad variable and what it should be; never echoes a secret."""
    parts = []
    for err in exc.errors():
        var = str(err["loc"][0]).upper() if err["loc"] else "?"
        shown = "" if any(w in var for w in ("PASSWORD", "KEY", "TOKENS")) else f"={err.get('input')!r}"
        parts.append(f"{var}{shown}: {err['msg']}")
    return "configuration error: " + "; ".join(parts)


def fail(message: str) -> NoReturn:
    """End the process at start with one line on stderr and EX_CONFIG."""
    print(f"isf: {message}", file=sys.stderr, flush=True)
    raise SystemExit(EX_CONFIG)


@functools.cache
def settings() -> Settings:
    """The configuration, read from the environment on first use; a bad value ends the process (exit 78)."""
    try:
        return Settings()
    except ValidationError as exc:
        fail(describe(exc))


def rule_sources(environ: Mapping[str, str] = os.environ) -> tuple[dict[int, Path], dict[int, Path]]:
    """ISF_WEIGHTS_<year> and ISF_DEFINITIONS_<year> (or ISF_DEFINITIONS for every year): official weight lists
    and definition data instead of the illustrative sets; a named file that does not exist is a configuration
    error."""
    weights: dict[int, Path] = {}
    definitions: dict[int, Path] = {}
    for year in YEARS:
        for into, names in (
            (weights, [f"ISF_WEIGHTS_{year}"]),
            (definitions, [f"ISF_DEFINITIONS_{year}", "ISF_DEFINITIONS"]),
        ):
            var = next((n for n in names if environ.get(n)), None)
            if var:
                value = environ[var]
                if not Path(value).exists():
                    fail(f"{var}: {value} does not exist")
                into[year] = Path(value)
    return weights, definitions


DEFINITION_OPTIONS = {"fmt": ("FORMAT", FORMATS), "pair_category": ("PAIR_CATEGORY", PAIR_CATEGORY)}


def definition_options(environ: Mapping[str, str] = os.environ) -> dict[int, dict[str, str]]:
    """ISF_DEFINITIONS_FORMAT_<year> (auto, old, current) and ISF_DEFINITIONS_PAIR_CATEGORY_<year> (second, first),
    or without the year for every year: how a rule year's definition data is read."""
    out: dict[int, dict[str, str]] = {}
    for year in YEARS:
        for option, (suffix, allowed) in DEFINITION_OPTIONS.items():
            var = next(
                (n for n in (f"ISF_DEFINITIONS_{suffix}_{year}", f"ISF_DEFINITIONS_{suffix}") if environ.get(n)), None
            )
            if var:
                if environ[var] not in allowed:
                    fail(f"{var}: {environ[var]!r} is not one of {', '.join(allowed)}")
                out.setdefault(year, {})[option] = environ[var]
    return out


def _config_errors_end_the_process(previous=sys.excepthook):
    """A ConfigError that reaches the top (no key, no tokens) ends the process like a bad value does."""

    def hook(kind, value, tb):
        if issubclass(kind, ConfigError):
            print(f"isf: configuration error: {value}", file=sys.stderr, flush=True)
            logging.shutdown()
            os._exit(EX_CONFIG)  # SystemExit raised inside an excepthook would be ignored
        previous(kind, value, tb)

    sys.excepthook = hook


_config_errors_end_the_process()


def kafka_bootstrap() -> str:
    return settings().kafka_bootstrap


def _secret(value: SecretStr | None, file: Path | None) -> str | None:
    """A secret given directly or as a file (for mounted secrets); never logged."""
    if value is not None:
        return value.get_secret_value()
    if file is not None:
        return file.read_text(encoding="utf-8").strip()
    return None


def redis_url() -> str:
    """REDIS_URL (`redis://[:password@]host:port/db`, or `rediss://` for TLS); REDIS_PASSWORD[_FILE] adds a password."""
    s = settings()
    url = s.redis_url
    password = _secret(s.redis_password, s.redis_password_file)
    if password and "@" not in url:
        scheme, rest = url.split("://", 1)
        url = f"{scheme}://:{quote(password, safe='')}@{rest}"
    return url


def kafka_client_kwargs() -> dict:
    """kafka-python settings for TLS and SASL: KAFKA_SECURITY_PROTOCOL, KAFKA_SSL_CAFILE,
    KAFKA_SASL_MECHANISM (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD[_FILE]."""
    s = settings()
    protocol = s.kafka_security_protocol
    out: dict = {"security_protocol": protocol}
    if "SSL" in protocol and s.kafka_ssl_cafile:
        out["ssl_cafile"] = str(s.kafka_ssl_cafile)
    if protocol.startswith("SASL"):
        user, password = s.kafka_sasl_username, _secret(s.kafka_sasl_password, s.kafka_sasl_password_file)
        if not user or not password:
            raise ConfigError("SASL needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE)")
        out.update(sasl_mechanism=s.kafka_sasl_mechanism, sasl_plain_username=user, sasl_plain_password=password)
    return out


def pseudonym_key() -> bytes:
    """ISF_PSEUDONYM_KEY, or the file ISF_PSEUDONYM_KEY_FILE; the demo key only when ISF_EMBEDDED=1."""
    s = settings()
    if s.isf_pseudonym_key is not None:
        return s.isf_pseudonym_key.get_secret_value().encode()
    if s.isf_pseudonym_key_file is not None:
        data = s.isf_pseudonym_key_file.read_bytes().strip()
        if data:
            return data
    if s.isf_embedded:
        return DEMO_KEY
    raise ConfigError(
        "no pseudonymisation key: set ISF_PSEUDONYM_KEY or ISF_PSEUDONYM_KEY_FILE "
        "(only the embedded default, ISF_EMBEDDED=1, runs with the demo key)"
    )


def monitor_tokens_text() -> str:
    """ISF_MONITOR_TOKENS, or the content of ISF_MONITOR_TOKENS_FILE."""
    s = settings()
    return _secret(s.isf_monitor_tokens, None) or (
        s.isf_monitor_tokens_file.read_text(encoding="utf-8") if s.isf_monitor_tokens_file else ""
    )
