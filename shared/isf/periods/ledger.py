"""The contribution ledger: what each source (episode, prescription) contributes, and the deltas a new revision causes.

A source contributes *items* (its own counts and points, e.g. a DRG episode) and memberships in
*units* (a patient in a group for a period: STG/TFG patient-periods, unique patients of an
indicator). A unit counts once while it has any member, into the statistic of its *first* member:
the earliest activity date, then the lowest member text (which starts with the source id). That is
how a TFG patient-period, unique across HFs and regions, is credited to exactly one HF and one
region of residence, and how the credit moves when the first member is corrected or withdrawn.

Applying a new revision of a source replaces its old contributions and returns the deltas, which is
what makes corrections, deletes and regroupings converge. Revisions are ordered strings (see
`isf.ingest.revision`); a revision already applied returns the same deltas again (same batch id),
an older one returns nothing: handlers stay idempotent under at-least-once delivery, and every
delivery order ends in the same state.

`MemoryLedger` is the store for replay and unit tests; the Redis store in
`services/common/redis_store.py` runs the same algorithm as one Lua script.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..events import Delta, DeltaBatch
from .calendar import tertial_of_score

SEP = "\x1f"  # between the parts of a member text: sorts below every printable character


@dataclass(frozen=True)
class Unit:
    group: str  # what the unit is unique over, e.g. "TFG|2026|BT01" (nationally) or a per-HF stat
    patient: str
    period: str  # the unit's own period label: "2026-03", "2026-T1", "2026"
    stat: str  # the statistic this member credits when it is the unit's first member
    points_micro: int = 0
    by_first: bool = False  # attribute to the tertial of its earliest member (year-long units)

    @property
    def key(self) -> str:
        return f"{self.group}|{self.period}|{self.patient}"

    def member(self, source: str) -> str:
        return f"{source}{SEP}{self.points_micro}{SEP}{self.stat}"

    def to_json(self, score: int) -> dict:
        """The encoding the Lua twin reads by name: group, period, stat, micro-points, by-first, score."""
        return {
            "g": self.group,
            "p": self.period,
            "s": self.stat,
            "m": self.points_micro,
            "f": int(self.by_first),
            "d": score,
        }


@dataclass(frozen=True)
class Contributions:
    items: tuple[Delta, ...] = ()
    units: tuple[tuple[Unit, int], ...] = ()  # (unit, score = activity date as yyyymmdd), one per unit key

    def to_json(self) -> dict:
        """Items as {s: stat, p: period, m: micro-points, n: count}; units as `Unit.to_json`."""
        return {
            "i": [{"s": d.stat, "p": d.period, "m": d.points_micro, "n": d.count} for d in self.items],
            "u": [u.to_json(s) for u, s in self.units],
        }


EMPTY = Contributions()


def contributions(items: list[Delta], units: list[tuple[Unit, int]]) -> Contributions:
    """Contributions with at most one membership per unit key (an activity whose DRG and STG belong to
    one TFG is one member of it), the first one given."""
    seen: set[str] = set()
    kept = []
    for u, s in units:
        if u.key not in seen:
            seen.add(u.key)
            kept.append((u, s))
    return Contributions(tuple(items), tuple(kept))


def merge(deltas: list[Delta]) -> list[Delta]:
    """Sum deltas per (stat, period), dropping those that cancel out; stable order."""
    acc: dict[tuple[str, str], list[int]] = {}
    for d in deltas:
        a = acc.setdefault((d.stat, d.period), [0, 0])
        a[0] += d.points_micro
        a[1] += d.count
    return [Delta(stat=s, period=p, points_micro=v[0], count=v[1]) for (s, p), v in acc.items() if v[0] or v[1]]


First = tuple[int, str]  # (score, member text) of a unit's first member


def credit(unit: Unit, first: First | None) -> tuple[str, str, int] | None:
    """(stat, period, micro-points) a unit counts into, given its first member; None while empty."""
    if first is None:
        return None
    score, member = first
    _source, points, stat = member.split(SEP, 2)
    return stat, tertial_of_score(score) if unit.by_first else unit.period, int(points)


def unit_deltas(unit: Unit, before: First | None, after: First | None) -> list[Delta]:
    """Deltas for one unit whose first member went from `before` to `after` (None = empty)."""
    b, a = credit(unit, before), credit(unit, after)
    if b == a:
        return []
    out = []
    if b is not None:
        out.append(Delta(stat=b[0], period=b[1], points_micro=-b[2], count=-1))
    if a is not None:
        out.append(Delta(stat=a[0], period=a[1], points_micro=a[2], count=1))
    return out


@dataclass
class _Source:
    revision: str
    contributions: Contributions
    history: dict[str, list[Delta]] = field(default_factory=dict)


class MemoryLedger:
    """In-process ledger store with the same semantics as the Redis one (`isf.stages.LedgerStore`)."""

    def __init__(self) -> None:
        self.sources: dict[str, _Source] = {}
        self.units: dict[str, dict[str, int]] = {}  # unit key -> {member text: score}

    async def apply(self, items: list) -> list[DeltaBatch | None]:
        return [self.apply_one(ns, patient, src, rev, new) for ns, patient, src, rev, new, _close in items]

    def apply_one(
        self, namespace: str, patient: str, source: str, revision: str, new: Contributions
    ) -> DeltaBatch | None:
        """State is kept per patient (the Redis keys share the patient's hash tag), so a source whose
        patient was corrected has a record under each; its withdrawal from the old one has a revision
        of its own (`isf.ingest.withdrawal`)."""
        batch_id = f"{namespace}:{source}:{revision}"
        rec_key = f"{namespace}:{patient}:{source}"
        rec = self.sources.get(rec_key)
        if rec is not None:
            if revision in rec.history:
                return DeltaBatch(id=batch_id, deltas=rec.history[revision])
            if revision < rec.revision:
                return None
        old = rec.contributions if rec else EMPTY
        deltas = [Delta(stat=d.stat, period=d.period, points_micro=-d.points_micro, count=-d.count) for d in old.items]
        deltas += list(new.items)
        touched = {u.key: u for u, _ in old.units}
        touched.update({u.key: u for u, _ in new.units})
        before = {k: self._first(k) for k in touched}
        for u, _ in old.units:
            self.units.get(u.key, {}).pop(u.member(source), None)
        for u, s in new.units:
            self.units.setdefault(u.key, {})[u.member(source)] = s
        for k, u in touched.items():
            deltas += unit_deltas(u, before[k], self._first(k))
            if not self.units.get(k):
                self.units.pop(k, None)
        merged = merge(deltas)
        if rec is None:
            rec = self.sources[rec_key] = _Source(revision, new)
        rec.revision, rec.contributions = revision, new
        rec.history[revision] = merged
        return DeltaBatch(id=batch_id, deltas=merged)

    def _first(self, unit_key: str) -> First | None:
        members = self.units.get(unit_key)
        if not members:
            return None
        member = min(members, key=lambda m: (members[m], m))
        return members[member], member
