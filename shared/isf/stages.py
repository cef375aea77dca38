"""The pipeline's stages, each one plain function over a micro-batch and a store port.

The faust agents (`services/*/app.py`), the replay (`isf.replay`) and the scripted check
(`services/common/scripted.py`) all call these: an agent adds only Kafka (take, call, publish), the
replay only in-memory stores. The ports are async because the Redis stores are; the in-memory stores
never suspend, so the replay drives them without an event loop (`run_now`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Callable, Coroutine, Iterable, Protocol, TypeVar

from .events import Activity, DeltaBatch
from .grouping.activity import Grouped, group_activity
from .ingest import PASS_ON, Rejected, category, parse, state_year, to_activity, withdrawal
from .periods.calendar import closes_at
from .periods.ledger import Contributions

T = TypeVar("T")
# (source, event id, revision, category, closes-at or 0, patient)
DecideItem = tuple[str, str, str, str, int, str]
# (namespace, patient, source, revision, contributions, closes-at or 0)
ApplyItem = tuple[str, str, str, str, Contributions, int]


class IngestStore(Protocol):
    async def decide(self, items: list[DecideItem]) -> list[tuple[str, str]]:
        """Per item: the decision and the patient the source was withdrawn from ("" if none)."""

    async def dead_letter(self, items: list[tuple[str | None, str, str]]) -> list[bool]:
        """Per (hf, payload digest, readable errors): whether it is the first sight (then counted)."""


class LedgerStore(Protocol):
    async def apply(self, items: list[ApplyItem]) -> list[DeltaBatch | None]:
        """Per item: the deltas the revision caused (again for a repeat), None if outdated."""


class TotalsStore(Protocol):
    async def settle(self, batches: list[DeltaBatch]) -> int:
        """Sum each batch once; how many were new."""


def run_now(coro: Coroutine[None, None, T]) -> T:
    """The result of a coroutine that never suspends (in-memory stores), without an event loop."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise RuntimeError("an in-memory store suspended: only stores that never wait can run without a loop")


@dataclass
class Ingested:
    rejected: list[Rejected] = field(default_factory=list)  # for the dead-letter topic
    first_dead: list[bool] = field(default_factory=list)  # per rejected: first sight of that payload
    decisions: list[str] = field(default_factory=list)  # per valid event
    passed: list[Activity] = field(default_factory=list)  # for the activity topic: current versions, withdrawals


def _closes(year: int, retain: int | None) -> int:
    return closes_at(year, retain) if retain is not None else 0


async def ingest(
    raws: Iterable[bytes], key: bytes, store: IngestStore, open_from: int | None = None, retain: int | None = None
) -> Ingested:
    """Validate, pseudonymise, dead-letter, and pass on one current revision per source. `retain`: years
    state is kept after a rule year's next (its keys expire then); None keeps it (replay, tests)."""
    out = Ingested()
    dead: list[tuple[Rejected, str]] = []
    valid = []
    for raw in raws:
        parsed = parse(raw, key, open_from=open_from)
        if isinstance(parsed, Rejected):
            dead.append((parsed, hashlib.sha256(raw).hexdigest()))
        else:
            valid.append((parsed, to_activity(parsed, key)))
    if dead:
        out.rejected = [r for r, _ in dead]
        out.first_dead = await store.dead_letter(
            [(r.hf, digest, json.dumps(r.errors, ensure_ascii=False)) for r, digest in dead]
        )
    results = await store.decide(
        [
            (a.source_id, e.event_id, a.revision, category(a), _closes(state_year(a), retain), a.patient)
            for e, a in valid
        ]
    )
    for (_e, a), (decision, moved_from) in zip(valid, results):
        out.decisions.append(decision)
        if decision in PASS_ON:
            out.passed += [withdrawal(a, moved_from), a] if moved_from else [a]
    return out


def group(activities: Iterable[Activity], year: int | None = None) -> list[Grouped]:
    """DRG, points and STG per activity, under its own rule year (or `year`, for a simulation)."""
    return [group_activity(a, year=year) for a in activities]


def ledger_items(
    grouped: list[Grouped],
    namespace: str,
    contributions: Callable[[Grouped], Contributions],
    retain: int | None = None,
) -> list[ApplyItem]:
    """What a batch of grouped activity asks of one contribution ledger: one item per activity."""
    return [
        (
            namespace,
            g.activity.patient,
            g.activity.source_id,
            g.activity.revision,
            contributions(g),
            _closes(state_year(g.activity), retain),
        )
        for g in grouped
    ]


async def apply_items(items: list[ApplyItem], store: LedgerStore) -> list[DeltaBatch]:
    """The delta batches that changed anything."""
    return [b for b in await store.apply(items) if b is not None and b.deltas]


async def apply_ledger(
    grouped: list[Grouped],
    namespace: str,
    contributions: Callable[[Grouped], Contributions],
    store: LedgerStore,
    retain: int | None = None,
) -> list[DeltaBatch]:
    """One contribution ledger over a batch of grouped activity: the delta batches that changed anything."""
    return await apply_items(ledger_items(grouped, namespace, contributions, retain), store)


async def settle(batches: list[DeltaBatch], store: TotalsStore) -> int:
    return await store.settle(batches) if batches else 0
