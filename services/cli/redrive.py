"""`isf redrive`: send the items stages set aside back to be processed again, once the fix is deployed.

A dead letter of a stage after ingest (`runtime.SetAside`) names the stage's input topic. A grouped activity a
ledger set aside goes back to the grouper as its activity, so that it is grouped again under the rule data
deployed now (a ledger with new data sets aside what an old grouper made); every other item goes back to the
input topic it was read from, a whole message as it was. Each item is sent once, however many dead letters carry
it (a batch delivered again after a restart sets its items aside again), and remembered in Redis by the digest
it was counted under; sending one again would change nothing either, since every stage is idempotent per source
revision and delta batch. Ingest's dead letters (invalid input) are not redriven: the sender corrects and sends
the event again.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from services.common import names
from services.common.runtime import aside_digest

POLL_MS = 500


@dataclass(frozen=True)
class DeadLetter:
    """One set-aside item as a dead letter carries it; where on the topic it lay does not name it."""

    record: dict

    @property
    def id(self) -> str:
        """The item's identity: the digest its stage counted it under (`isf:{stats}:aside`)."""
        return aside_digest(str(self.record.get("stage")), str(self.record.get("payload")))


def read_dead_letters(bootstrap: str) -> list[DeadLetter]:
    """Every record on the dead-letter topic up to its end now (ingest's and the stages'), oldest first per
    partition; a record that is not an array of JSON objects is skipped."""
    from kafka import KafkaConsumer, TopicPartition

    from services.common.config import kafka_client_kwargs

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, client_id="isf-redrive", **kafka_client_kwargs()
    )
    try:
        tps = [
            TopicPartition(names.DEAD_LETTER, p) for p in sorted(consumer.partitions_for_topic(names.DEAD_LETTER) or ())
        ]
        if not tps:
            return []
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        out: list[DeadLetter] = []
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            for tp, msgs in consumer.poll(timeout_ms=POLL_MS).items():
                for m in msgs:
                    if m.offset >= ends[tp]:
                        continue
                    try:
                        records = json.loads(m.value)
                    except ValueError:
                        continue
                    for r in records if isinstance(records, list) else ():
                        if isinstance(r, dict):
                            out.append(DeadLetter(r))
        return out
    finally:
        consumer.close()


def destination(record: dict) -> tuple[str, bytes] | None:
    """Where a set-aside item goes back, and the message that carries it; None for ingest's dead letters."""
    stage, topic, payload = record.get("stage"), record.get("input"), record.get("payload")
    if not (isinstance(stage, str) and topic in names.TOPICS and isinstance(payload, str)):
        return None
    if record.get("message"):
        return topic, payload.encode()
    if topic == names.GROUPED:
        try:
            item = json.loads(payload)
        except ValueError:
            item = None
        activity = item.get("activity") if isinstance(item, dict) else None
        if isinstance(activity, dict):  # grouped again, under the rule data deployed now
            return names.ACTIVITY, json.dumps([activity], separators=(",", ":")).encode()
    return topic, b"[" + payload.encode() + b"]"


def redrive(bootstrap: str, redis_client, dry_run: bool = False, stage: str | None = None) -> dict:
    """Send the set-aside items not yet redriven back (or, with `dry_run`, only say what would go where)."""
    letters = [d for d in read_dead_letters(bootstrap) if stage is None or d.record.get("stage") == stage]
    items: dict[str, tuple[DeadLetter, tuple[str, bytes]]] = {}
    for d in letters:
        if (dest := destination(d.record)) is not None:
            items.setdefault(d.id, (d, dest))  # the first dead letter of each item
    todo = list(items.values())
    done = redis_client.smismember(names.REDRIVEN, list(items)) if todo else []
    fresh = [(d, dest) for (d, dest), seen in zip(todo, done) if not seen]
    plan = Counter(f"{d.record['stage']} -> {dest[0]}" for d, dest in fresh)
    reasons = Counter(f"{d.record['stage']}: {d.record.get('reason', '')}" for d, _ in fresh)
    summary = {
        "dry_run": dry_run,
        "set_aside": len(todo),
        "already_redriven": len(todo) - len(fresh),
        ("would_send" if dry_run else "sent"): dict(sorted(plan.items())),
        "reasons": dict(sorted(reasons.items())),
    }
    if dry_run or not fresh:
        return summary
    from kafka import KafkaProducer

    from services.common.config import kafka_client_kwargs

    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", **kafka_client_kwargs())
    try:
        for d, (topic, value) in fresh:
            producer.send(topic, key=d.record["stage"].encode(), value=value)
        producer.flush()
    finally:
        producer.close()
    redis_client.sadd(names.REDRIVEN, *[d.id for d, _ in fresh])
    return summary
