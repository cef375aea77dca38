"""No raw patient identifier after ingest: not in any internal topic, not in Redis, not in any service log, not in
the monitor's error views, also when the identifier comes as a field name or inside a value."""

import hashlib
import json
import time
import urllib.request

import pytest
import redis
from kafka import KafkaConsumer

from isf.feed import Feed, FeedConfig
from isf.pseudonym import DEMO_KEY
from isf.replay import Pipeline
from services.cli.run import expected_state, wait_converged
from services.cli.runner import Stack, produce
from services.common import names
from services.common.infra import TOPICS

pytestmark = pytest.mark.integration
AFTER_INGEST = [t for t in TOPICS if t not in (names.EPISODES, names.PRESCRIPTIONS)]


def national_id(synthetic: str) -> str:
    """An 11-digit stand-in for a national id, derived from the feed's synthetic patient id."""
    return str(10**10 + int(hashlib.sha256(synthetic.encode()).hexdigest(), 16) % (9 * 10**10))


def with_national_ids(events):
    out, ids = [], set()
    for key, raw in events:
        try:
            ev = json.loads(raw)
        except ValueError:
            out.append((key, raw))
            continue
        if isinstance(ev, dict) and isinstance(ev.get("patient_id"), str):
            ev["patient_id"] = national_id(ev["patient_id"])
            ids.add(ev["patient_id"])
        raw = json.dumps(ev).encode()
        out.append((key, raw))
    # broken input that still carries an identifier: truncated JSON and a wrong-typed field
    out += [(f"t{i}", raw[:200]) for i, (_k, raw) in enumerate(out[:40])]
    out += [(f"w{i}", raw.replace(b'"version": 1', b'"version": "x"')) for i, (_k, raw) in enumerate(out[40:80])]
    return out + hostile(out[80:200]), ids


def hostile(events):
    """Events whose own patient id comes back as a field name, in the schema, as the HF or inside a wrong value."""
    out = []
    for i, (_key, raw) in enumerate(events):
        ev = json.loads(raw)
        if not isinstance(ev, dict) or not isinstance(ev.get("patient_id"), str):
            continue
        pid = ev["patient_id"]
        variants = [
            {**ev, pid: "x"},
            {**ev, "schema": f"episode/{pid}"},
            {**ev, "hf": pid},
            {**ev, "version": f"{pid}\n"},
            {**ev, f"x\n{pid[:6]} {pid[6:]}": 1},
        ]
        out.append((f"h{i}", json.dumps(variants[i % len(variants)]).encode()))
    return out


def error_views(port: int, token: str) -> str:
    """The monitor's /api/errors and every HF's latest_errors as the national role reads them."""
    from isf.registry import hospitals

    def read(path):
        req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, timeout=20) as resp:
            return json.loads(resp.read())

    views = [read("/api/errors")] + [read(f"/api/hf/{hf}")["latest_errors"] for hf in hospitals()]
    return json.dumps(views, ensure_ascii=False)


def consume_all(bootstrap: str, topic: str) -> list[bytes]:
    c = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
        consumer_timeout_ms=3000,
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    try:
        return [m.value or b"" for m in c]
    finally:
        c.close()


def test_no_raw_identifier_in_topics_after_ingest_in_redis_or_in_logs():
    events, ids = with_national_ids(Feed(FeedConfig(seed=61, invalid=0.03)).events(3000))
    assert len(ids) > 500
    with Stack() as stack:
        client = redis.Redis.from_url(stack.infra.redis_url)
        produce(stack.infra.bootstrap, events)
        ok, _got, _w = wait_converged(client, expected_state(Pipeline(DEMO_KEY).run([r for _k, r in events])), 180)
        assert ok
        time.sleep(6)  # statements and views published
        found = {}
        for topic in AFTER_INGEST:
            blob = b"\n".join(consume_all(stack.infra.bootstrap, topic))
            found[topic] = len(blob)
            assert not any(i.encode() in blob or f"{i[:6]} {i[6:]}".encode() in blob for i in ids), topic
        assert found[names.ACTIVITY] > 0 and found[names.DEAD_LETTER] > 0 and found[names.STATEMENTS] > 0
        dump = []
        for key in client.scan_iter(count=5000):
            dump.append(key)
            kind = client.type(key)
            if kind == b"string":
                dump.append(client.get(key) or b"")
            elif kind == b"hash":
                dump += [b for kv in client.hgetall(key).items() for b in kv]
            elif kind == b"list":
                dump += client.lrange(key, 0, -1)
            elif kind in (b"set",):
                dump += list(client.smembers(key))
            elif kind == b"zset":
                dump += client.zrange(key, 0, -1)
        blob = b"\n".join(dump)
        assert len(blob) > 100_000 and not any(i.encode() in blob for i in ids), "raw identifier in Redis"
        views = error_views(stack.monitor_port, stack.tokens["national"])
        assert "unknown field" in views and "Extra inputs are not permitted" in views  # the hostile ones are shown
        assert not any(i in views or f"{i[:6]} {i[6:]}" in views for i in ids), "raw identifier in an error view"
    logs = b"\n".join(p.read_bytes() for p in stack.logdir.glob("*.log"))
    assert b"dead-lettered" in logs  # the logs do talk about the rejected input ...
    assert not any(i.encode() in logs or f"{i[:6]} {i[6:]}".encode() in logs for i in ids), "identifier in a log"
