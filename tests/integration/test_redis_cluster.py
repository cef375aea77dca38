"""On a real three-master Redis Cluster (the machine's redis-server on loopback): the services settle exactly
as replay, the scripts are routed by their hash tag, and a delta batch is summed once per the applied sets of
its rule years, including a batch that spans two years."""

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import redis
import redis.asyncio as aredis

from isf.events import Delta, DeltaBatch
from isf.feed import Feed, FeedConfig
from isf.periods.calendar import closes_at
from isf.pseudonym import DEMO_KEY
from isf.replay import Pipeline
from isf.settlement.statements import indicator_sums
from isf.settlement.views import view_sums
from services.cli.run import expected_state, wait_converged
from services.cli.runner import Stack, produce
from services.common.infra import DURABLE_REDIS, free_port, wait_port
from services.common.redis import (
    RedisStore,
    SettledTotals,
    read_applied,
    read_statement_sums,
    read_totals,
    read_view_sums,
)
from services.common.scripted import apply_events
from tests.integration.store_values import store_values

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def cluster_ports(n: int) -> list[int]:
    """Free loopback ports whose cluster bus port (port + 10 000) is free too."""
    ports: list[int] = []
    while len(ports) < n:
        p = free_port()
        if p <= 55535 and p not in ports:
            try:
                import socket

                with socket.socket() as s:
                    s.bind(("127.0.0.1", p + 10000))
            except OSError:
                continue
            ports.append(p)
    return ports


def start_nodes(server: str, workdir: str) -> tuple[list[int], list[subprocess.Popen]]:
    """Three cluster-enabled redis-servers; a port taken meanwhile (by another test run) means new ports."""
    for _attempt in range(5):
        ports, procs = cluster_ports(3), []
        for p in ports:
            with open(os.path.join(workdir, f"redis-{p}.log"), "wb") as log:
                procs.append(
                    subprocess.Popen(
                        [
                            server,
                            "--port",
                            str(p),
                            "--bind",
                            "127.0.0.1",
                            "--cluster-enabled",
                            "yes",
                            "--cluster-config-file",
                            f"nodes-{p}.conf",
                            "--dir",
                            workdir,
                            *DURABLE_REDIS,
                            "--appendfilename",
                            f"aof-{p}.aof",
                            "--appenddirname",
                            f"aof-{p}",
                        ],
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        try:
            for p in ports:
                wait_port(p)
            return ports, procs
        except TimeoutError:
            stop(procs)
    raise RuntimeError(
        "no three free port pairs for a Redis Cluster: "
        + " | ".join(open(os.path.join(workdir, f)).read()[-300:] for f in os.listdir(workdir) if f.endswith(".log"))
    )


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()


@pytest.fixture(scope="module")
def cluster():
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if not (server and cli):
        pytest.skip("no redis-server/redis-cli on PATH: the Redis Cluster test needs Redis 7")
    workdir = tempfile.mkdtemp(prefix="isf-cluster-")
    procs: list[subprocess.Popen] = []
    try:
        ports, procs = start_nodes(server, workdir)
        made = subprocess.run(
            [
                cli,
                "--cluster",
                "create",
                *(f"127.0.0.1:{p}" for p in ports),
                "--cluster-replicas",
                "0",
                "--cluster-yes",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert made.returncode == 0, made.stdout + made.stderr
        deadline = time.monotonic() + 30
        while not all(redis.Redis(port=p).cluster("info")["cluster_state"] == "ok" for p in ports):
            assert time.monotonic() < deadline, "cluster_state never became ok"
            time.sleep(0.2)
        yield f"redis://127.0.0.1:{ports[1]}/0"
    finally:
        stop(procs)
        shutil.rmtree(workdir, ignore_errors=True)


def flush(url: str) -> redis.RedisCluster:
    client = redis.RedisCluster.from_url(url)
    client.flushall(target_nodes=redis.RedisCluster.PRIMARIES)
    return client


def test_the_cluster_spreads_the_keys_over_three_masters(cluster):
    client = flush(cluster)
    assert len(client.get_primaries()) == 3
    slots = {client.keyslot(f"isf:{{{hf}}}:counters") for hf in ("ous", "ahus", "hbe", "unn", "stolav")}
    owners = {client.get_node_from_key(f"isf:{{{hf}}}:counters").port for hf in ("ous", "ahus", "hbe", "unn", "stolav")}
    assert len(slots) == 5 and len(owners) > 1


def test_the_scripts_through_a_cluster_client_equal_replay_and_a_redelivery_changes_nothing(cluster):
    client = flush(cluster)
    events = [raw for _k, raw in Feed(FeedConfig(seed=7, corrections=0.05, deletes=0.02)).events(2000)]
    expected = Pipeline(b"k").run(events)
    store = RedisStore(aredis.RedisCluster.from_url(cluster), **store_values())
    asyncio.run(apply_events(store, events, b"k", batch=100, deliveries=2))
    assert read_totals(client) == list(expected.totals.rows())
    sums = view_sums(expected.totals.rows())
    assert read_view_sums(client) == sums
    assert read_statement_sums(client) == (sums[0], indicator_sums(expected.totals.rows()))


def test_a_batch_spanning_two_rule_years_is_summed_once_and_its_ids_expire_with_each_year(cluster):
    client = flush(cluster)
    moved = DeltaBatch(
        id="pts:E:ous:1:3",
        deltas=[  # a correction moved the episode from 2025 into 2026
            Delta(stat="P|2025|ous|somatic|DRG|123|sor-ost", period="2025-T3", points_micro=-1_000_000, count=-1),
            Delta(stat="P|2026|ous|somatic|DRG|123|sor-ost", period="2026-T1", points_micro=1_000_000, count=1),
        ],
    )

    async def settle(batches):
        store = SettledTotals(aredis.RedisCluster.from_url(cluster), **store_values())
        try:
            return await store.settle(batches)
        finally:
            await store.r.aclose()

    assert asyncio.run(settle([moved])) == 1
    assert asyncio.run(settle([moved])) == 0  # redelivered
    for year in (2025, 2026):  # each year's table (its count and its one bucket) expires when the year closes
        for key in (f"isf:{{totals}}:batches:{year}", f"isf:{{totals}}:batches:{year}:0"):
            assert client.expiretime(key) == closes_at(year)
    # 2025 has closed: its table is gone, and the batch is still known by 2026's
    client.delete("isf:{totals}:batches:2025", "isf:{totals}:batches:2025:0")
    assert asyncio.run(settle([moved])) == 0
    assert read_applied(client, [moved.id, "pts:E:ous:2:1"]) == [True, False]
    assert dict(client.hgetall("isf:{totals}:pts")) == {
        b"P|2025|ous|somatic|DRG|123|sor-ost|2025-T3": b"-1000000",
        b"P|2026|ous|somatic|DRG|123|sor-ost|2026-T1": b"1000000",
    }


def test_the_services_on_redis_cluster_settle_exactly_as_replay(cluster, monkeypatch):
    flush(cluster)
    monkeypatch.setenv("REDIS_URL", cluster)
    monkeypatch.setenv("REDIS_CLUSTER", "1")
    events = list(Feed(FeedConfig(seed=13, duplicates=0.02, corrections=0.05, deletes=0.02, invalid=0.01)).events(3000))
    expected = expected_state(Pipeline(DEMO_KEY).run([raw for _k, raw in events]))
    with Stack() as stack:
        assert stack.infra.redis_proc is None  # the cluster, not a local Redis
        client = redis.RedisCluster.from_url(cluster)
        produce(stack.infra.bootstrap, events)
        ok, got, waited = wait_converged(client, expected, timeout=180)
        print(f"\nRedis Cluster: converged={ok} {waited:.1f} s after the last event")
        assert got["events"] == expected["events"]
        assert got["points_micro_by_hf"] == expected["points_micro_by_hf"]
        assert ok
        assert client.hget("isf:{totals}:views", "summary")  # settlement's leader timer ran through the cluster
        assert all(n == 1 for n in stack.alive().values())


def test_isf_run_on_redis_cluster_reads_through_a_cluster_client_and_converges_with_replay(cluster, tmp_path):
    flush(cluster)
    env = {**os.environ, "REDIS_URL": cluster, "REDIS_CLUSTER": "1", "ISF_LOG_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "services.cli", "run", "--duration", "15", "--rate", "100", "--seed", "3"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "MovedError" not in done.stderr and "Traceback" not in done.stderr, done.stderr[-2000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert done.returncode == 0 and summary["converged_with_replay"], summary
    assert summary["events"]["accepted"] > 0
