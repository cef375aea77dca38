"""Poison on every internal topic during a streaming run: each stage sets it aside and goes on.

Malformed messages and items are produced straight onto the topics between ingest and settlement while the
feed runs; no worker exits, the dead-letter topic holds every one with its stage and a readable reason, and
the settled totals equal replay of the valid events (plus the valid items that shared a message with poison).
"""

import json
import time
import urllib.request
from collections import Counter

import pytest
import redis

from isf import stages
from isf.access import Role
from isf.feed import Feed, FeedConfig
from isf.ingest import parse, to_activity
from isf.periods import LEDGERS
from isf.pseudonym import DEMO_KEY
from isf.replay import Pipeline
from services.cli.redrive import read_dead_letters
from services.cli.run import expected_state, wait_converged
from services.cli.runner import Stack, produce
from services.common import names
from services.common.redis import read_set_aside
from services.monitor.api import Ops
from tests.unit.helpers import episode

pytestmark = pytest.mark.integration
LEDGER_STAGES = ("aggregator", "indicators")


def _activity(**kw):
    return to_activity(parse(json.dumps(episode(patient_id="SYN-POISON", **kw)).encode(), DEMO_KEY), DEMO_KEY)


def _array(*items) -> bytes:
    return json.dumps(list(items), separators=(",", ":")).encode()


def poison() -> tuple[list[tuple[str, bytes, dict[str, str]]], list]:
    """(topic, message, {stage: reason it is set aside with}) per poison message, and the valid activities
    that travel in the same messages as poison (they must be applied all the same)."""
    valid_a, valid_g = _activity(procedures=["WMGA28"]), stages.group([_activity(main_condition="I109")])[0]
    bad_a = _activity().model_dump(mode="json")
    bad_g = stages.group([_activity()])[0].model_dump(mode="json")
    ledgers = dict.fromkeys(LEDGER_STAGES)
    out = []
    for topic, stages_of in (
        (names.ACTIVITY, ("grouper",)),
        (names.GROUPED, LEDGER_STAGES),
        (names.POINTS, ("settlement",)),
        (names.INDICATORS, ("settlement",)),
    ):
        out += [
            (topic, f"not json on {topic}".encode(), dict.fromkeys(stages_of, "message is not JSON")),
            (topic, json.dumps({"on": topic}).encode(), dict.fromkeys(stages_of, "message is a JSON dict")),
        ]
    out += [
        (names.ACTIVITY, _array({"kind": "episode"}), {"grouper": "not an activity: source_id (missing)"}),
        (
            names.ACTIVITY,
            _array({**bad_a, "hf": "nowhere"}, valid_a.model_dump(mode="json")),
            {"grouper": "activity of an HF not in the registry"},
        ),
        (
            names.ACTIVITY,
            _array({**bad_a, "end": "2031-03-02T09:00:00", "source_id": "E:ous:late"}),
            {"grouper": "rule error while grouping (RuleError)"},
        ),
        (
            names.GROUPED,
            _array({"rule_year": 2026}),
            {s: "not a grouped activity: activity (missing)" for s in ledgers},
        ),
        (
            names.GROUPED,
            _array({**bad_g, "stg": "ZZ99X"}, valid_g.model_dump(mode="json")),
            {s: "STG unknown to the rule data of 2026" for s in ledgers},
        ),
        (names.GROUPED, _array({**bad_g, "drg": "999Z"}), {s: "DRG unknown to the rule data of 2026" for s in ledgers}),
        (
            names.GROUPED,
            _array({**bad_g, "rules": "0000000000000000"}),
            {s: "grouped under rule data 0000000000000000 of 2026; this stage has" for s in ledgers},
        ),
        (names.POINTS, _array({"id": "pts:x:1"}), {"settlement": "not a delta batch: deltas (missing)"}),
        (
            names.POINTS,
            _array({"id": "pts:x:2", "deltas": [{"stat": "P|2026", "period": "2026-T1", "points_micro": 5}]}),
            {"settlement": "delta batch with a malformed stat key"},
        ),
        (
            names.INDICATORS,
            _array({"id": "ind:x:3", "deltas": [{"stat": "I|2031|ous|1|num", "period": "2031", "count": 1}]}),
            {"settlement": "delta batch names rule year 2031, which is not known here"},
        ),
    ]
    return out, [valid_a, valid_g.activity]


def send_raw(bootstrap: str, messages: list[tuple[str, bytes]]) -> None:
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for topic, value in messages:
        producer.send(topic, key=b"poison", value=value)
    producer.flush()
    producer.close()


def expected_with(valid_events, extra_activities) -> dict:
    """Replay of the valid events, and the valid activities that came in messages with poison grouped and
    applied to both ledgers as the stages do."""
    p = Pipeline(DEMO_KEY).run(valid_events)
    grouped = stages.group(extra_activities)
    for ns, contributions in LEDGERS:
        p.back(stages.ledger_items(grouped, ns, contributions))
    return expected_state(p)


def test_poison_of_every_kind_on_every_internal_topic_is_set_aside_and_no_stage_stops():
    evs = list(Feed(FeedConfig(seed=61, duplicates=0.02, corrections=0.05, invalid=0.01)).events(2000))
    bad, extra = poison()
    expected = expected_with([raw for _k, raw in evs], extra)
    with Stack() as stack:
        client = redis.Redis.from_url(stack.infra.redis_url)
        produce(stack.infra.bootstrap, evs[:1000])
        send_raw(stack.infra.bootstrap, [(t, m) for t, m, _ in bad])
        produce(stack.infra.bootstrap, evs[1000:])
        ok, got, waited = wait_converged(client, expected, timeout=120)  # no supervisor: an exit would stay down
        assert got.get("rows") == expected["rows"] and ok
        assert stack.started == {name: 0 for name in stack.workers}, "a worker was started again"
        assert all(n == 1 for n in stack.alive().values())

        want = Counter((stage, reason) for _t, _m, by_stage in bad for stage, reason in by_stage.items())
        deadline = time.monotonic() + 30
        while True:
            letters = [d.record for d in read_dead_letters(stack.infra.bootstrap) if "stage" in d.record]
            found = Counter(
                (stage, reason)
                for stage, reason in want
                for r in letters
                if r["stage"] == stage and r["reason"].startswith(reason)
            )
            if found >= want or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert found >= want, f"missing dead letters: {want - found}"
        sent = {m.decode() for _t, m, _ in bad}
        for r in letters:
            assert r["rules"] and r["input"] in names.TOPICS
            assert r["payload"] not in r["reason"] and "ZZ99X" not in r["reason"] and "nowhere" not in r["reason"]
            if r["message"]:
                assert r["payload"] in sent
        counted = Counter(stage for stage, _reason in want.elements())
        assert read_set_aside(client) == counted
        ops = Ops().doc(client, Role("national"))["services"]
        assert {s: v["set_aside"] for s, v in ops.items() if v["set_aside"]} == counted

        port = stack.web_ports["aggregator"][0]
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        assert 'outcome="set_aside",service="aggregator"' in metrics
