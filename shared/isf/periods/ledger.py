"""The contribution ledger: what each source (episode, prescription) contributes, and the deltas a new version causes.

A source contributes *items* (its own counts and points, e.g. a DRG episode) and
memberships in *units* (a patient in a group for a period: STG/TFG patient-periods,
unique patients of an indicator). A unit counts once while it has any member. Applying
a new version of a source replaces its old contributions and returns the deltas, which
is what makes corrections, deletes and regroupings converge. A version already applied
returns the same deltas again (same batch id), an older one returns nothing: handlers
stay idempotent under at-least-once delivery.

`MemoryLedger` is the store for replay and unit tests; the Redis store in
`services/common/redis_ledger.py` runs the same algorithm as one Lua script.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..events import Delta, DeltaBatch
from .calendar import tertial_of_score


@dataclass(frozen=True)
class Unit:
    stat: str  # statistic this unit counts into, e.g. "P|2026|ous|somatic|TFG|BT01"
    patient: str
    period: str  # the unit's own period label: "2026-03", "2026-T1", "2026"
    points_micro: int = 0
    by_first: bool = False  # attribute to the tertial of its earliest member (year-long units)

    @property
    def key(self) -> str:
        return f"{self.stat}|{self.period}|{self.patient}"

    def attribution(self, first_score: int) -> str:
        return tertial_of_score(first_score) if self.by_first else self.period

    def to_json(self) -> list:
        return [self.stat, self.patient, self.period, self.points_micro, int(self.by_first)]


@dataclass(frozen=True)
class Contributions:
    items: tuple[Delta, ...] = ()
    units: tuple[tuple[Unit, int], ...] = ()  # (unit, score = activity date as yyyymmdd)

    def to_json(self) -> dict:
        return {"i": [[d.stat, d.period, d.points_micro, d.count] for d in self.items],
                "u": [[*u.to_json(), s] for u, s in self.units]}


EMPTY = Contributions()


def merge(deltas: list[Delta]) -> list[Delta]:
    """Sum deltas per (stat, period), dropping those that cancel out; stable order."""
    acc: dict[tuple[str, str], list[int]] = {}
    for d in deltas:
        a = acc.setdefault((d.stat, d.period), [0, 0])
        a[0] += d.points_micro
        a[1] += d.count
    return [Delta(stat=s, period=p, points_micro=v[0], count=v[1]) for (s, p), v in acc.items() if v[0] or v[1]]


def unit_deltas(unit: Unit, before: int | None, after: int | None) -> list[Delta]:
    """Deltas for one unit whose earliest member score went from `before` to `after` (None = empty)."""
    b = None if before is None else unit.attribution(before)
    a = None if after is None else unit.attribution(after)
    if b == a:
        return []
    out = []
    if b is not None:
        out.append(Delta(stat=unit.stat, period=b, points_micro=-unit.points_micro, count=-1))
    if a is not None:
        out.append(Delta(stat=unit.stat, period=a, points_micro=unit.points_micro, count=1))
    return out


@dataclass
class _Source:
    version: int
    contributions: Contributions
    history: dict[int, list[Delta]] = field(default_factory=dict)


class MemoryLedger:
    """In-process ledger store with the same semantics as the Redis one."""

    def __init__(self) -> None:
        self.sources: dict[str, _Source] = {}
        self.units: dict[str, dict[str, int]] = {}  # unit key -> {source: score}

    def apply(self, namespace: str, source: str, version: int, new: Contributions) -> DeltaBatch | None:
        batch_id = f"{namespace}:{source}:{version}"
        rec = self.sources.get(f"{namespace}:{source}")
        if rec is not None:
            if version in rec.history:
                return DeltaBatch(id=batch_id, deltas=rec.history[version])
            if version < rec.version:
                return None
        old = rec.contributions if rec else EMPTY
        deltas = [Delta(stat=d.stat, period=d.period, points_micro=-d.points_micro, count=-d.count) for d in old.items]
        deltas += list(new.items)
        touched = {u.key: u for u, _ in old.units}
        touched.update({u.key: u for u, _ in new.units})
        before = {k: self._first(k) for k in touched}
        for u, _ in old.units:
            self.units.get(u.key, {}).pop(source, None)
        for u, s in new.units:
            self.units.setdefault(u.key, {})[source] = s
        for k, u in touched.items():
            deltas += unit_deltas(u, before[k], self._first(k))
            if not self.units.get(k):
                self.units.pop(k, None)
        merged = merge(deltas)
        if rec is None:
            rec = self.sources[f"{namespace}:{source}"] = _Source(version, new)
        rec.version, rec.contributions = version, new
        rec.history[version] = merged
        return DeltaBatch(id=batch_id, deltas=merged)

    def _first(self, unit_key: str) -> int | None:
        members = self.units.get(unit_key)
        return min(members.values()) if members else None
