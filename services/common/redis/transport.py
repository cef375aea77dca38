"""Transport and retries: a micro-batch of calls of one script as EVALSHA in one round trip, on one Redis
or a Redis Cluster, waiting out a restart, a failover or a resharding.

The calls of a per-item script (`Script.per_item`) go as few EVALSHA as possible: up to ITEMS of them in one
(all keys of one call lie in one hash slot on Redis Cluster, so there the items are grouped by slot first).
On Redis Cluster, redis-py refuses scripts in a cluster pipeline, so the calls are grouped by the node that
owns their KEYS[1] and each group goes as one plain pipeline to its node, all nodes at once: still one round
trip. A moved slot (resharding, failover) refreshes the slot map and sends again.
"""

from __future__ import annotations

import asyncio
import logging
import time

import redis.asyncio as aredis
from redis.exceptions import AskError, BusyLoadingError, ClusterDownError, MovedError, NoScriptError, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .. import observability
from .scripts import Script

log = logging.getLogger("isf.redis")

Call = tuple[list[str], list]  # (KEYS, ARGV) of one script call
# items of a per-item script in one call: enough that the per-command cost is small, few enough that one call
# holds Redis for milliseconds, not longer
ITEMS = 64

# what a restarting, loading, failing-over or resharding Redis answers: wait and send again
UNAVAILABLE = (
    ConnectionError,
    TimeoutError,
    OSError,
    BusyLoadingError,
    RedisConnectionError,
    RedisTimeoutError,
    MovedError,
    AskError,
    ClusterDownError,
    TryAgainError,
)


def text(v) -> str:
    """A reply as a string (a client without decode_responses answers bytes)."""
    return v.decode() if isinstance(v, bytes) else v


class Transport:
    """Runs the scripts' calls over one async client (plain or cluster)."""

    def __init__(self, client) -> None:
        self.r = client
        self.cluster = isinstance(client, aredis.RedisCluster)
        self._nodes: dict[str, aredis.Redis] = {}  # node name -> a plain client on that node (cluster only)

    async def _pipeline(self, client, sha: str, calls: list[Call]) -> list:
        async with client.pipeline(transaction=False) as pipe:
            for keys, args in calls:
                pipe.evalsha(sha, len(keys), *keys, *args)
            return await pipe.execute()

    def _node_client(self, node) -> aredis.Redis:
        if node.name not in self._nodes:
            self._nodes[node.name] = aredis.Redis(
                connection_pool=aredis.ConnectionPool(connection_class=node.connection_class, **node.connection_kwargs)
            )
        return self._nodes[node.name]

    async def _by_node(self, sha: str, calls: list[Call]) -> list:
        await self.r.initialize()
        groups: dict[str, tuple[object, list[int]]] = {}
        for i, (keys, _args) in enumerate(calls):
            node = self.r.get_node_from_key(keys[0])
            groups.setdefault(node.name, (node, []))[1].append(i)
        answers = await asyncio.gather(
            *(self._pipeline(self._node_client(node), sha, [calls[i] for i in idx]) for node, idx in groups.values())
        )
        out: list = [None] * len(calls)
        for (_node, idx), got in zip(groups.values(), answers):
            for i, value in zip(idx, got):
                out[i] = value
        return out

    async def _refresh_slots(self) -> None:
        for client in self._nodes.values():
            await client.aclose()
        self._nodes.clear()
        await self.r.nodes_manager.initialize()

    def _slot(self, key: str) -> int:
        return self.r.keyslot(key) if self.cluster else 0

    async def run(self, script: Script, calls: list[Call]) -> list:
        """Each call's answer; the calls of a per-item script go many to an EVALSHA (see the module)."""
        if not script.per_item:
            return await self._run(script, calls)
        by_slot: dict[int, list[int]] = {}
        for i, (keys, _args) in enumerate(calls):
            by_slot.setdefault(self._slot(keys[0]), []).append(i)
        groups = [idx[j : j + ITEMS] for idx in by_slot.values() for j in range(0, len(idx), ITEMS)]
        batched: list[Call] = [
            (
                [k for i in group for k in calls[i][0]],
                [x for i in group for x in (len(calls[i][0]), len(calls[i][1]), *calls[i][1])],
            )
            for group in groups
        ]
        out: list = [None] * len(calls)
        for group, answers in zip(groups, await self._run(script, batched)):
            for i, answer in zip(group, answers):
                out[i] = answer
        return out

    async def _run(self, script: Script, calls: list[Call]) -> list:
        """Each call's answer, in one pipeline (per node). While Redis is unreachable (restarting, loading its
        AOF), wait and try again; a script Redis does not know (after a restart, on a new primary) is loaded (a
        cluster client loads it on every primary) and the pipeline sent again. Every script is idempotent, so
        running a batch again after an unknown outcome is safe."""
        if not calls:
            return []
        delay = 0.1
        while True:
            try:
                t0 = time.perf_counter()
                if self.cluster:
                    out = await self._by_node(script.sha, calls)
                else:
                    out = await self._pipeline(self.r, script.sha, calls)
                observability.redis_round_trip(script.name, time.perf_counter() - t0)
                return out
            except NoScriptError:
                await self.r.script_load(script.text)
            except UNAVAILABLE as exc:
                log.warning("Redis unavailable (%s); retrying in %.1f s", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                if self.cluster:
                    try:
                        await self._refresh_slots()
                    except Exception as again:  # the cluster is still away: the next round tries again
                        log.warning("Redis Cluster slots not refreshed (%s)", type(again).__name__)
