"""The bench's preload writes what the running services write: every Redis key and value after the same events,
through the services on a real broker and through the fast path, compared one by one.

What the services themselves leave differently from one run to the next, as micro-batches take turns on
the partitions, is compared in terms that hold in any order: which versions of a corrected source reached a
ledger before a newer one overtook them (those settle no batch of their own: the tables of applied batch ids
differ, the totals do not), so only the rule years with applied batches are compared; the layout of a patient's
ledger document (its string table's order, the credit history its records keep), so each document is compared
as its sources with their current revision, expiry, items and units; and a total or view sum of 0 (a stat
that went up and back down, which one order passed through and another did not), which is left out.
"""

import json

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


AS_JSON = "return cjson.encode(cmsgpack.unpack(redis.call('GET', KEYS[1])))"


def _seq(x) -> list:
    return x if isinstance(x, list) else []  # cjson writes an empty Lua table as {}


def ledger(doc: dict) -> dict:
    """A ledger document in terms that do not depend on the order its records arrived in."""
    t = _seq(doc["t"])

    def s(i):
        return t[i - 1] if isinstance(i, int) and 0 < i <= len(t) else i

    out = {}
    for rid, r in doc["s"].items():
        items, units = _seq(r[2]), _seq(r[3])
        out[rid] = (
            s(r[0]),
            r[1],
            sorted((s(items[j]), s(items[j + 1]), items[j + 2], items[j + 3]) for j in range(0, len(items), 4)),
            sorted((s(units[j]), s(units[j + 1]), s(units[j + 2])) for j in range(0, len(units), 6)),
        )
    return out


def dump(client: redis.Redis) -> dict:
    """Every key's value as Python data, with whether it expires. Three things that hold when something
    happened are normalised: a dead letter's key holds the time it is forgotten (`now` + TTL), its HF's error
    list keeps the last 20 in the order they arrived, and the settled points by hour are merged into one hour."""
    out: dict = {}
    hourly: dict[bytes, int] = {}
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
            elif ":L:" in text:
                value = ledger(json.loads(client.eval(AS_JSON, 1, key)))
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
    assert any(k.endswith(":L:pts") for k in fast) and any(k.endswith(":L:ind") for k in fast)
    assert sorted(fast) == sorted(services)
    for key in services:
        assert fast[key] == services[key], key
