"""`RedisStore`: the four Redis adapters over one client, for the faust services, which hand one object to every
stage (`isf.stages`) and to the runtime's set-aside and stats calls."""

from __future__ import annotations

from typing import Callable

from .ingest import IngestLedger
from .ledger import ContributionLedger
from .stats import WorkerStats
from .totals import SettledTotals


class RedisStore:
    """Each call takes a whole micro-batch and makes one round trip (a pipeline of scripts, each atomic on its own)."""

    def __init__(self, client, *, event_ttl: int, retain_years: int, clock: Callable[[], float] | None = None) -> None:
        self.r = client
        self.ingest = IngestLedger(client, event_ttl=event_ttl, retain_years=retain_years, clock=clock)
        self.ledger = ContributionLedger(client, event_ttl=event_ttl, retain_years=retain_years, clock=clock)
        self.totals = SettledTotals(client, event_ttl=event_ttl, retain_years=retain_years, clock=clock)
        self.stats = WorkerStats(client, event_ttl=event_ttl, retain_years=retain_years, clock=clock)
        self.decide = self.ingest.decide
        self.dead_letter = self.ingest.dead_letter
        self.set_aside = self.ingest.set_aside
        self.apply = self.ledger.apply
        self.settle = self.totals.settle
        self.worker_stats = self.stats.worker_stats
