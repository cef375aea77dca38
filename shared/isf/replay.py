"""The batch reference: the complete streaming logic in one process, without Kafka or Redis.

`Pipeline.handle` is what the services do, stage by stage, with in-memory stores; the
streaming system must end in the same totals over the same events.
"""
from __future__ import annotations

import hashlib
from typing import Callable, Iterable

from .events import DeltaBatch
from .grouping.activity import group_activity
from .ingest import FIRST_SIGHT, PASS_ON, MemoryIngestLedger, Rejected, category, parse, to_activity
from .periods import LEDGERS
from .periods.ledger import MemoryLedger
from .settlement.money import points_by_hf, summary
from .settlement.totals import Totals


class Pipeline:
    def __init__(self, key: bytes, rule_year: int | None = None, open_from: int | None = None,
                 on_batch: Callable[[DeltaBatch], None] | None = None):
        """`rule_year` groups every activity under that year's rules instead of its own (simulation);
        `open_from` refuses rule years before it as closed, as the ingest service does at the time;
        `on_batch` sees every delta batch as it is settled (what the settlement service receives)."""
        self.key = key
        self.on_batch = on_batch
        self.rule_year = rule_year
        self.open_from = open_from
        self.ingest = MemoryIngestLedger()
        self.ledger = MemoryLedger()
        self.totals = Totals()
        self.counters = {"in": 0, "accepted": 0, "duplicate": 0, "superseded": 0, "repeat": 0,
                         "dead_lettered": 0, "grouped": 0, "deleted": 0, "ongoing": 0}
        self._dead: set[str] = set()

    def handle(self, raw: bytes) -> None:
        self.counters["in"] += 1
        parsed = parse(raw, self.key, open_from=self.open_from)
        if isinstance(parsed, Rejected):
            digest = hashlib.sha256(raw).hexdigest()
            if digest not in self._dead:
                self._dead.add(digest)
                self.counters["dead_lettered"] += 1
            else:
                self.counters["repeat"] += 1
            return
        decision = self.ingest.decide(parsed.source_id, parsed.event_id, parsed.version)
        self.counters[decision if decision in FIRST_SIGHT else "repeat"] += 1
        if decision not in PASS_ON:
            return
        a = to_activity(parsed, self.key)
        if decision == "accepted":
            self.counters[category(a)] += 1
        g = group_activity(a, year=self.rule_year)
        for ns, contributions in LEDGERS:
            batch = self.ledger.apply(ns, a.source_id, a.version, contributions(g))
            if self.totals.apply(batch) and self.on_batch is not None:
                self.on_batch(batch)

    def run(self, lines: Iterable[bytes]) -> "Pipeline":
        for raw in lines:
            raw = raw.rstrip(b"\r\n")
            if raw:
                self.handle(raw)
        return self

    def result(self) -> dict:
        rows = list(self.totals.rows())
        return {"events": self.counters, "points_micro_by_hf": points_by_hf(rows), **summary(rows)}
