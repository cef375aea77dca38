"""The embedded default: local broker and Redis, every service as its own worker process, a synthetic feed.

`Stack` is used by `isf run` and by the integration tests; it stops everything it started.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from services.common import names
from services.common.infra import LocalInfra, free_port

SERVICES = ("ingest", "grouper", "aggregator", "indicators", "settlement", "monitor")
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Stack:
    infra: LocalInfra = field(default_factory=LocalInfra)
    workers: dict[str, list[subprocess.Popen]] = field(default_factory=dict)
    started: dict[str, int] = field(default_factory=dict)
    monitor_port: int = 0  # the monitor's public port (web_ports holds every worker's ops port)
    web_ports: dict[str, list[int]] = field(default_factory=dict)  # service -> web port of each worker started
    logdir: Path | None = None
    tokens: dict[str, str] = field(default_factory=dict)  # role -> token, for the embedded default
    restarts: dict[str, tuple[float, float]] = field(default_factory=dict)  # service -> (last restart, back-off s)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(KAFKA_BOOTSTRAP=self.infra.bootstrap, REDIS_URL=self.infra.redis_url, PYTHONUNBUFFERED="1")
        env.setdefault("ISF_EMBEDDED", "1")
        if not (env.get("ISF_MONITOR_TOKENS") or env.get("ISF_MONITOR_TOKENS_FILE")):
            env["ISF_MONITOR_TOKENS"] = ",".join(f"{t}={role}" for role, t in self.tokens.items())
        return env

    def _make_tokens(self) -> None:
        """Fresh random monitor tokens for this run: national, one per RHF, one per HF (var/log/<run>/tokens.json)."""
        import json
        import secrets

        from isf.registry import RHFS, hospitals

        roles = ["national", *(f"rhf:{r}" for r in RHFS), *(f"hf:{h}" for h in hospitals())]
        self.tokens = {role: secrets.token_urlsafe(24) for role in roles}
        assert self.logdir is not None, "start() sets the log directory first"
        path = self.logdir / "tokens.json"
        path.write_text(json.dumps(self.tokens, indent=1))
        path.chmod(0o600)

    def start(self, services=SERVICES) -> "Stack":
        self.infra.start()
        self.logdir = Path(os.environ.get("ISF_LOG_DIR") or ROOT / "var" / "log" / time.strftime("%Y%m%d-%H%M%S"))
        self.logdir.mkdir(parents=True, exist_ok=True)
        if not (os.environ.get("ISF_MONITOR_TOKENS") or os.environ.get("ISF_MONITOR_TOKENS_FILE")):
            self._make_tokens()
        try:
            for name in services:
                self.start_worker(name)
        except BaseException:
            self.stop()
            raise
        return self

    def start_worker(self, name: str) -> subprocess.Popen:
        env = self.env()
        port = free_port()
        if name == "monitor":  # its public API and dashboard; its ops pages are on the web port like any worker's
            self.monitor_port = free_port()
            env["ISF_MONITOR_PORT"] = str(self.monitor_port)
        self.web_ports.setdefault(name, []).append(port)
        env["ISF_WEB_PORT"] = str(port)  # faust workers always serve web (ops pages); each needs its own port
        # numbered by starts, not by live workers: a restarted worker gets a log and data dir of its own
        index = self.started[name] = self.started.get(name, -1) + 1
        assert self.logdir is not None, "start() sets the log directory first"
        datadir = self.logdir / f"{name}-{index}-data"
        with open(self.logdir / f"{name}-{index}.log", "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", f"services.{name}.app", "--datadir", str(datadir), "worker", "-l", "warn"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.workers.setdefault(name, []).append(proc)
        return proc

    def kill_worker(self, name: str, index: int = 0) -> None:
        proc = self.workers[name][index]
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    def restart_worker(self, name: str, index: int = 0) -> None:
        self.kill_worker(name, index)
        self.workers[name].pop(index)
        self.start_worker(name)

    def supervise(self, now: float | None = None) -> list[str]:
        """Start again every worker that has exited (a crash, or a service ending itself on an
        unexpected error); returns the names restarted. A service that exits again within a minute of its
        last restart waits 1 s before the next, then twice as long each time up to 30 s (back-off)."""
        now = time.monotonic() if now is None else now
        restarted = []
        for name, procs in self.workers.items():
            for p in list(procs):
                if p.poll() is None:
                    continue
                last, wait = self.restarts.get(name, (float("-inf"), 0.0))
                if now - last > 60:
                    wait = 0.0
                if now < last + wait:
                    continue
                procs.remove(p)
                self.start_worker(name)
                self.restarts[name] = (now, min(30.0, max(1.0, 2 * wait)))
                restarted.append(name)
        return restarted

    def alive(self) -> dict[str, int]:
        return {n: sum(p.poll() is None for p in ps) for n, ps in self.workers.items()}

    def stop(self) -> None:
        procs = [p for ps in self.workers.values() for p in ps]
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for p in procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        self.workers.clear()
        self.infra.stop()

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def produce(bootstrap: str, events, rate: float | None = None, on_progress=None) -> int:
    """Send (key, raw) pairs to isf.episodes / isf.prescriptions, at `rate` per second if given.
    Messages up to 4 MB are sent, so that oversized input reaches ingest and is dead-lettered there.
    aiokafka's producer: a third of kafka-python's CPU per message (42 against 113 us here), and the feed
    shares the machine with the services it loads."""
    return asyncio.run(_produce(bootstrap, events, rate, on_progress))


async def _produce(bootstrap: str, events, rate: float | None, on_progress) -> int:
    from aiokafka import AIOKafkaProducer

    from services.common.bootstrap import aiokafka_client_kwargs

    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=10, acks=1, max_request_size=4_000_000, **aiokafka_client_kwargs()
    )
    await producer.start()
    n = 0
    start = time.monotonic()
    try:
        for key, raw in events:
            topic = names.PRESCRIPTIONS if b'"prescription/v1"' in raw[:4096] else names.EPISODES
            await producer.send(topic, key=key.encode(), value=raw)
            n += 1
            if rate:
                ahead = n / rate - (time.monotonic() - start)
                if ahead > 0:
                    await asyncio.sleep(ahead)
            if on_progress and n % 500 == 0:
                on_progress(n)
        await producer.flush()
    finally:
        await producer.stop()
    return n
