"""What an operator sees of the running system: every worker's /metrics, /healthz and /ready, JSON log lines,
the monitor's access log, and faust's debug pages closed."""

import functools
import json
import re
import time
import urllib.error
import urllib.request

import pytest

from isf.feed import Feed, FeedConfig
from services.cli.runner import SERVICES, Stack, produce

pytestmark = pytest.mark.integration


def get(port: int, path: str, token: str | None = None) -> tuple[int, str]:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"} if token else {}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def wait_for(check, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            got = check()
            if got:
                return got
        except (urllib.error.URLError, ConnectionError):
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout} s: {check.__doc__}")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def system():
    mp = pytest.MonkeyPatch()
    mp.setenv("ISF_LOG_FORMAT", "json")
    try:
        with Stack() as stack:
            produce(stack.infra.bootstrap, Feed(FeedConfig(seed=5, invalid=0.02)).events(1500))
            yield stack
    finally:
        mp.undo()


def test_every_worker_is_ready_once_it_has_partitions_and_redis_and_the_broker_answer(system):
    for name in SERVICES:
        port = system.web_ports[name][0]

        def alive(port=port):
            """the worker answers /healthz"""
            return get(port, "/healthz")[0] == 200

        wait_for(alive)

        def ready(port=port):
            """the worker says it is ready"""
            return get(port, "/ready")[0] == 200

        wait_for(ready)
        assert json.loads(get(port, "/ready")[1]) == {"ready": True, "service": name}


def test_metrics_count_events_by_outcome_batches_redis_round_trips_and_lag(system):
    port = system.web_ports["ingest"][0]

    def counted():
        """ingest's metrics count accepted and dead-lettered events and show its lag"""
        text = get(port, "/metrics")[1]
        return (
            text
            if all(
                m in text
                for m in (
                    'isf_events_total{outcome="dead_lettered",service="ingest"}',
                    'isf_events_total{outcome="accepted",service="ingest"}',
                    'isf_consumer_lag{partition="0",service="ingest",topic="isf.episodes"}',
                )
            )
            else None
        )

    text = wait_for(counted, 90)
    assert re.search(r'^isf_batch_size_count\{service="ingest"\} [1-9]', text, re.M)
    assert re.search(r'^isf_redis_seconds_count\{script="ingest",service="ingest"\} [1-9]', text, re.M)
    assert re.search(r'^isf_consumer_lag\{partition="\d",service="ingest",topic="isf.episodes"\} \d', text, re.M)

    def caught_up(port=port):
        """ingest's lag is 0 on every partition of both input topics once it has handled all input"""
        text = get(port, "/metrics")[1]
        lags = re.findall(r'^isf_consumer_lag\{partition="\d",service="ingest",topic="\S+"\} (\S+)', text, re.M)
        return len(lags) == 8 and all(float(v) == 0 for v in lags)

    wait_for(caught_up, 90)
    system.restart_worker("ingest")  # a new worker with nothing to read measures from the group's commits
    wait_for(functools.partial(caught_up, system.web_ports["ingest"][-1]), 90)
    grouped = get(system.web_ports["grouper"][0], "/metrics")[1]
    assert "isf_grouper_messages_received_total" in grouped  # faust's own Prometheus sensor (ingest reads its
    # input with a plain consumer, so its faust sensor sees only what it sends)
    settled = get(system.web_ports["settlement"][0], "/metrics")[1]
    assert 'isf_events_total{outcome="settled",service="settlement"}' in settled


def test_faust_debug_pages_are_closed(system):
    for name in ("grouper", "monitor"):
        port = system.web_ports[name][0]
        for path in ("/router", "/table", "/graph", "/stats", "/performance"):
            assert get(port, path)[0] == 404, (name, path)


def test_monitor_access_log_names_the_role_and_resource_never_the_token(system):
    token = system.tokens["rhf:vest"]
    assert get(system.monitor_port, "/api/me", token)[0] == 200
    assert get(system.monitor_port, "/api/hf/ous", token)[0] == 403
    assert get(system.monitor_port, "/api/me?token=" + token)[0] == 401  # refused in a URL, and never logged
    assert get(system.monitor_port, "/api/me", "not-a-token-at-all-0123456789")[0] == 401
    log = system.logdir / "monitor-0.log"

    def logged():
        """four access lines in the monitor's log"""
        lines = [json.loads(line) for line in log.read_text().splitlines()]
        hits = [d["message"] for d in lines if d["logger"] == "isf.access"]
        return hits if len(hits) >= 4 else None

    hits = wait_for(logged, 10)
    assert any("role=rhf:vest" in h and "resource=/api/me" in h and "status=200" in h for h in hits)
    assert any("role=rhf:vest" in h and "resource=/api/hf/ous" in h and "status=403" in h for h in hits)
    assert any("role=-" in h and "status=401" in h for h in hits)
    assert not any(t in log.read_text() for t in (token, "not-a-token-at-all"))


def test_every_log_line_is_one_json_object_without_escape_codes(system):
    lines = 0
    for name in SERVICES:
        text = (system.logdir / f"{name}-0.log").read_text()
        assert "\x1b[" not in text
        docs = [json.loads(line) for line in text.splitlines()]
        assert all(set(d) >= {"time", "level", "logger", "message", "service"} for d in docs)
        assert all(d["service"] == name for d in docs)
        lines += len(docs)
    assert lines > 0


def test_ready_says_503_with_the_reason_while_redis_is_away(system):
    if system.infra.redis_proc is None:
        pytest.skip("Redis is not ours to stop (given or from a container)")
    port = system.web_ports["grouper"][0]
    system.infra.redis_proc.kill()
    system.infra.redis_proc.wait(10)
    try:
        status, body = get(port, "/ready")
        assert status == 503 and "redis" in json.loads(body)["reasons"]
        assert get(port, "/healthz")[0] == 200
    finally:
        system.infra.restart_redis()  # the infra's own restart: same port, same data


def timer_runs(port: int, timer: str) -> float:
    found = re.search(
        rf'^isf_timer_runs_total\{{service="settlement",timer="{timer}"\}} (\S+)', get(port, "/metrics")[1], re.M
    )
    return float(found.group(1)) if found else 0.0


def test_with_two_settlement_workers_only_the_leader_computes_the_view_and_statements(system):
    system.start_worker("settlement")
    ports = system.web_ports["settlement"][:2]

    def both_ready():
        """both settlement workers are ready (the group has rebalanced)"""
        return all(get(p, "/ready")[0] == 200 for p in ports)

    wait_for(both_ready, 90)
    time.sleep(3)  # past the rebalance: one leader
    timers = ("view", "statements")
    before = {t: [timer_runs(p, t) for p in ports] for t in timers}
    time.sleep(11)  # two statement intervals, ten view intervals
    grew = {t: [timer_runs(p, t) > b for p, b in zip(ports, before[t])] for t in timers}
    assert sorted(grew["view"]) == [False, True], grew
    assert grew["statements"] == grew["view"], grew  # the same worker: the leader
