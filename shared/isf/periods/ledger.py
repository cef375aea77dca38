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
`services/common/redis/lua/ledger.lua` runs the same algorithm as one Lua script.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, NamedTuple

from ..events import Delta, DeltaBatch
from .calendar import tertial_of_score

SEP = "\x1f"  # between the parts of a member text: sorts below every printable character


@dataclass(slots=True)
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

    def packed(self) -> tuple:
        """Plain tuples of strings and numbers (the sharded replay's spools): pickled without a Python call per
        record, a third of the time of pickling the records themselves."""
        return (
            tuple((d.stat, d.period, d.points_micro, d.count) for d in self.items),
            tuple((u.group, u.patient, u.period, u.stat, u.points_micro, u.by_first, s) for u, s in self.units),
        )

    @staticmethod
    def unpacked(t: tuple) -> "Contributions":
        items, units = t
        return Contributions(tuple(Delta(*d) for d in items), tuple((Unit(*u[:6]), u[6]) for u in units))


EMPTY = Contributions()
EMPTY = Contributions()


class ApplyItem(NamedTuple):
    """One revision of a source for a contribution ledger (`isf.stages.LedgerStore.apply`).
    Built and read by field name."""

    namespace: str  # the ledger: "pts" (points) or "ind" (indicators)
    patient: str  # ledger state is kept per patient
    source: str
    revision: str  # `isf.ingest.revision`
    contributions: Contributions
    closes_at: int  # Unix seconds: when the record of its rule year expires; 0 keeps it


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


def _add(acc: dict[tuple[str, str], list[int]], stat: str, period: str, points: int, count: int) -> None:
    a = acc.get((stat, period))
    if a is None:
        acc[(stat, period)] = [points, count]
    else:
        a[0] += points
        a[1] += count


def _deltas(acc: dict[tuple[str, str], list[int]]) -> list[Delta]:
    return [Delta(s, p, v[0], v[1]) for (s, p), v in acc.items() if v[0] or v[1]]


First = tuple[int, str]  # (score, member text) of a unit's first member


def credit(unit: Unit, first: First | None) -> tuple[str, str, int] | None:
    """(stat, period, micro-points) a unit counts into, given its first member; None while empty."""
    if first is None:
        return None
    score, member = first
    _source, points, stat = member.split(SEP, 2)
    return stat, tertial_of_score(score) if unit.by_first else unit.period, int(points)


def _add_unit(acc: dict[tuple[str, str], list[int]], unit: Unit, before: First | None, after: First | None) -> None:
    if before == after:
        return
    b, a = credit(unit, before), credit(unit, after)
    if b == a:
        return
    if b is not None:
        _add(acc, b[0], b[1], -b[2], -1)
    if a is not None:
        _add(acc, a[0], a[1], a[2], 1)


def first_of(members: dict[str, int] | None) -> First | None:
    """The first member of a unit: the earliest score (activity date), then the lowest member text."""
    if not members:
        return None
    if len(members) == 1:
        for m, s in members.items():
            return s, m
    return min((s, m) for m, s in members.items())


@dataclass
class _Source:
    revision: str
    contributions: Contributions
    history: dict[str, list[Delta]] = field(default_factory=dict)


class MemoryLedger:
    """In-process ledger store with the same semantics as the Redis one (`isf.stages.LedgerStore`). With a
    `clock` (Unix seconds), a record whose rule year has closed is dropped, with its memberships and without
    deltas, when its patient's ledger is next written, as the script drops it; without one (replay), never."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self.sources: dict[str, _Source] = {}
        self.units: dict[str, dict[str, int]] = {}  # unit key -> {member text: score}
        self.clock = clock
        # (namespace, patient) -> {record key: (closes-at, source)}: kept only with a clock
        self.closes: dict[tuple[str, str], dict[str, tuple[int, str]]] = {}

    async def apply(self, items: list[ApplyItem]) -> list[DeltaBatch | None]:
        if self.clock is None:
            return [self.apply_one(i.namespace, i.patient, i.source, i.revision, i.contributions) for i in items]
        out = []
        for i in items:
            self._drop_closed(i.namespace, i.patient, self.clock())
            b = self.apply_one(i.namespace, i.patient, i.source, i.revision, i.contributions)
            if b is not None:
                key = f"{i.namespace}:{i.patient}:{i.source}"
                self.closes.setdefault((i.namespace, i.patient), {})[key] = (i.closes_at, i.source)
            out.append(b)
        return out

    def _drop_closed(self, namespace: str, patient: str, now: float) -> None:
        records = self.closes.get((namespace, patient), {})
        for key, (close, source) in list(records.items()):
            if 0 < close <= now:
                del records[key]
                rec = self.sources.pop(key)
                for u, _score in rec.contributions.units:
                    members = self.units.get(u.key)
                    if members is not None:
                        members.pop(u.member(source), None)
                        if not members:
                            del self.units[u.key]

    def apply_one(
        self, namespace: str, patient: str, source: str, revision: str, new: Contributions
    ) -> DeltaBatch | None:
        """State is kept per patient (the Redis keys share the patient's hash tag), so a source whose
        patient was corrected has a record under each; its withdrawal from the old one has a revision
        of its own (`isf.ingest.withdrawal`)."""
        batch_id = f"{namespace}:{source}:{revision}"
        rec_key = f"{namespace}:{patient}:{source}"
        rec = self.sources.get(rec_key)
        old = EMPTY
        if rec is not None:
            if revision in rec.history:
                return DeltaBatch(batch_id, rec.history[revision])
            if revision < rec.revision:
                return None
            old = rec.contributions
        acc: dict[tuple[str, str], list[int]] = {}
        for d in old.items:
            _add(acc, d.stat, d.period, -d.points_micro, -d.count)
        for d in new.items:
            _add(acc, d.stat, d.period, d.points_micro, d.count)
        if old.units or new.units:
            self._move_units(acc, source, old, new)
        merged = _deltas(acc)
        if rec is None:
            rec = self.sources[rec_key] = _Source(revision, new)
        rec.revision, rec.contributions = revision, new
        rec.history[revision] = merged
        return DeltaBatch(batch_id, merged)

    def _move_units(self, acc: dict, source: str, old: Contributions, new: Contributions) -> None:
        """Replace the source's memberships `old` by `new`, adding the deltas of every unit whose first
        member changed; a membership that stays the same (member text and score) changes nothing."""
        was = {u.key: (u, u.member(source), s) for u, s in old.units}
        now = {u.key: (u, u.member(source), s) for u, s in new.units}
        for key in [*was, *(k for k in now if k not in was)]:
            o, n = was.get(key), now.get(key)
            if o is not None and n is not None and o[1] == n[1] and o[2] == n[2]:
                continue
            members = self.units.get(key)
            before = first_of(members)
            if o is not None and members is not None:
                members.pop(o[1], None)
            unit = o[0] if o is not None else None
            if n is not None:
                if members is None:
                    members = self.units[key] = {}
                members[n[1]] = n[2]
                unit = n[0]
            assert unit is not None  # the key came from `was` or `now`
            _add_unit(acc, unit, before, first_of(members))
            if not members:
                self.units.pop(key, None)
