"""The bench's preload writes what the running services write: every Redis key and value after the same events,
through the services on a real broker and through the fast path, compared one by one.

What the services themselves leave differently from one run to the next, as micro-batches take turns on
the partitions, is compared in terms that hold in any order: which versions of a corrected source reached a
ledger before a newer one overtook them (those settle no batch of their own: the tables of applied batch ids
differ, the totals do not), so only the rule years with applied batches are compared; the layout of a patient's
ledger hash (its record numbers, the vocabulary ids, the credit history its records keep), so each hash is
compared as its sources with their current revision, expiry, items and units, and its units' members; and a
total or view sum of 0 (a stat that went up and back down, which one order passed through and another did not),
which is left out.
"""

import msgpack
import pytest
import redis

from isf.feed import Feed, FeedConfig
from isf.pseudonym import DEMO_KEY
from isf.replay import Pipeline
from services.cli.bench.preload import preload
from services.cli.run import expected_state, wait_converged
from services.cli.runner import Stack, produce
from services.common import names
from services.common.infra import LocalInfra

pytestmark = pytest.mark.integration

# written per worker or per timer tick, not by the events: who processed how many and when, the statements
# and view timers' output, and how many settlement calls there were (the view's change marker)
NOT_STATE = {
    names.STATS_PROCESSED,
    names.STATS_WORKERS,
    names.STATS_BEAT,
    names.VIEWS,
    names.STATEMENTS_KEY,
    names.SETTLE_SEQ,
}


def _entry(h: dict[str, bytes], f: str):
    """An entry of a ledger hash, put together from its parts (`lua/ledger.lua`'s `get`)."""
    head = h[f]
    n, at = (head[0], 1) if head[0] < 255 else (head[1] * 256 + head[2], 3)
    blob = head[at:] + b"".join(h[f"{f}+{i}"] for i in range(2, n + 1))
    return msgpack.unpackb(blob, raw=False, strict_map_key=False)


def ledger(client: redis.Redis, key: bytes, texts: dict[int, str]) -> dict:
    """A patient's ledger hash in terms that do not depend on the order its records arrived in: per source its
    current revision, close, items and units, and per unit its members' sources and days, all as texts."""

    def t(i):
        return texts[i] if isinstance(i, int) and i > 0 else i

    h = {f.decode(): v for f, v in client.hgetall(key).items()}
    records = {f: h[f] for f in h if ":" in f and "+" not in f}
    source_of = {}
    out: dict = {}
    for f, rn in records.items():
        r = _entry(h, rn.decode())
        rev = f"{r[1][0]:010d}{r[1][1]}" if isinstance(r[1], list) else r[1]
        close = r[2] * 86400 if 0 < r[2] < 1_000_000 else r[2]
        items = sorted((t(r[3][j]), t(r[3][j + 1]), r[3][j + 2], r[3][j + 3]) for j in range(0, len(r[3]), 4))
        units = sorted((t(u[0]), t(u[1]), t(u[2]) if len(u) > 2 and u[2] else t(u[0])) for u in r[4])
        out[f] = (rev, close, items, units)
        source_of[int(rn)] = f
    for f in h:
        if f.startswith("u") and "+" not in f:
            g, p = f[1:].split(".")
            m = _entry(h, f)
            out[f"unit {t(int(g))}|{t(int(p))}"] = sorted((source_of.get(m[j]), m[j + 1]) for j in range(0, len(m), 2))
    return out


def dump(client: redis.Redis) -> dict:
    """Every key's value as Python data, with whether it expires. Three things that hold when something
    happened are normalised: a dead letter's key holds the time it is forgotten (`now` + TTL), its HF's error
    list keeps the last 20 in the order they arrived, and the settled points by hour are merged into one hour."""
    out: dict = {}
    hourly: dict[bytes, int] = {}
    texts = {int(i): v.decode() for i, v in client.hgetall(names.VOCAB_TEXTS).items()}
    for key in client.scan_iter(count=5000):
        text = key.decode()
        if text in NOT_STATE:
            continue
        kind = client.type(key).decode()
        if text.startswith(names.batches(2025)[:-4]):
            out["applied batches of " + text.split(":")[3]] = ("applied", None, None)
            continue
        if text.startswith("isf:{totals}:ts:"):
            for f, v in client.hgetall(key).items():
                hourly[f] = hourly.get(f, 0) + int(v)
            continue
        if kind == "string":
            value: object = client.get(key)
            if ":dead:" in text:
                value = "a time"
        elif kind == "hash" and text.endswith(":ledger"):
            value = ledger(client, key, texts)
        elif kind == "hash" and text in (names.VOCAB_IDS, names.VOCAB_TEXTS):
            value = sorted(texts.values())  # ids are given in order of first sight: the texts are the state
        elif kind == "hash":
            value = client.hgetall(key)
            if text.startswith("isf:{totals}:"):  # a sum that went up and back down again, in one order only
                value = {f: v for f, v in value.items() if v != b"0"}
        elif kind == "list":
            value = sorted(client.lrange(key, 0, -1)) if text.endswith(":errors") else client.lrange(key, 0, -1)
        elif kind == "set":
            value = client.smembers(key)
        else:
            value = client.zrange(key, 0, -1, withscores=True)
        out[text] = (kind, value, client.ttl(key) != -1)
    out["hourly (merged)"] = hourly
    return out


def test_preload_leaves_every_key_and_value_the_services_leave():
    events = list(Feed(FeedConfig(seed=23, duplicates=0.02, corrections=0.05, deletes=0.02, invalid=0.01)).events(3000))
    raws = [raw for _k, raw in events]
    expected = Pipeline(DEMO_KEY).run(raws)
    assert expected.counters["superseded"] > 0 and expected.counters["dead_lettered"] > 0
    with Stack() as stack:
        client = redis.Redis.from_url(stack.infra.redis_url)
        produce(stack.infra.bootstrap, events)
        ok, _got, _waited = wait_converged(client, expected_state(expected), timeout=180)
        assert ok
        services = dump(client)
    with LocalInfra() as infra:
        done = preload(infra.redis_url, iter(raws), len(raws), DEMO_KEY, workers=2)
        fast = dump(redis.Redis.from_url(infra.redis_url))
    assert done["events"] == len(raws)
    assert any(k.endswith(":ledger") for k in fast)
    assert any(f.startswith("pts:") for k in fast if k.endswith(":ledger") for f in fast[k][1])
    assert any(f.startswith("ind:") for k in fast if k.endswith(":ledger") for f in fast[k][1])
    assert sorted(fast) == sorted(services)
    for key in services:
        assert fast[key] == services[key], key
