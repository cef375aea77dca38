"""The ingest version ledger on Redis (`isf.stages.IngestStore`, twin of `isf.ingest.MemoryIngestLedger`):
which revision of each source is current, dead-lettered payloads and set-aside items, each counted once.
Keys of one HF share its hash tag `{hf}`."""

from __future__ import annotations

from isf.ingest import DeadItem, DecideItem

from .. import names, observability
from .adapter import Adapter
from .scripts import ASIDE, DEAD, INGEST
from .transport import text


def tag_of(source: str) -> str:
    """The HF of a source id `E:<hf>:<id>`: every key of one source shares it."""
    return source.split(":", 2)[1]


class IngestLedger(Adapter):
    async def decide(self, items: list[DecideItem]) -> list[tuple[str, str]]:
        """(source, event id, revision, category, closes-at, patient) -> (ingest decision, the patient the
        source was withdrawn from or ""), per item."""
        now = self.now()
        calls = []
        for i in items:
            hf = tag_of(i.source)
            calls.append(
                (
                    [names.counters(hf), names.sources(hf)],
                    [i.source, i.event_id, i.revision, i.category, i.closes_at, i.patient, now],
                )
            )
        out = [(text(o[0]), text(o[1])) for o in await self.transport.run(INGEST, calls)]
        outcomes = [o for o, _moved in out]
        for outcome in set(outcomes):
            observability.count(outcome, outcomes.count(outcome))
        return out

    async def dead_letter(self, items: list[DeadItem]) -> list[bool]:
        """(hf, payload digest, readable errors) -> first sight of that payload (counted), per item."""
        now = self.now()
        calls = [
            (
                [names.counters(i.hf), names.dead_payload(i.hf, i.digest), names.errors(i.hf)],
                [self.event_ttl, i.errors, now],
            )
            for i in items
        ]
        out = [bool(o) for o in await self.transport.run(DEAD, calls)]
        observability.count("dead_lettered", sum(out))
        return out

    async def set_aside(self, stage: str, digests: list[str]) -> int:
        """Count items a stage set aside, each (stage, item) once however often it is met again (a redelivery,
        or a redrive before the fix): returns how many were new."""
        calls = [([names.SET_ASIDE, names.set_aside_item(d)], [stage, self.event_ttl]) for d in digests]
        return sum(int(o) for o in await self.transport.run(ASIDE, calls))
