"""STG rows (stg.csv): the row, its criteria declared one per column, and the index of a rule year's rows
derived from those declarations.

A row's empty cell means "any"; a filled cell holds when its column's criterion (`STG_CRITERIA`) holds for the
activity, and a row holds when every filled cell does. A criterion that names the activity's values a filled cell
must be one of (`keys`) lets the index file the row under its cell: each row is filed under the first such column
it fills, in declaration order, and an activity is tested only against the rows filed under its own values (every
row fills `source`, so no row is left out).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ..events import Activity
from ..grouping.tables import Definitions
from .cells import RuleError, day, dec, filled

SOURCES = ("episode", "prescription")  # the activity kinds an STG row is for


@dataclass(frozen=True)
class StgRule:
    stg: str
    name: str
    period: str
    weight: Decimal
    source: str  # "episode" or "prescription"
    sector: str
    care_level: str  # one care level, or several joined by "|"; "" = any
    special_code: str
    procedure: str
    atc_prefix: str
    indication_prefix: str
    hdg: str = ""  # main diagnostic group (HDG) of the main condition, e.g. "03"; "" = any
    valid_from: date | None = None  # first day the row is in force; None = the whole rule year
    valid_to: date | None = None  # last day the row is in force (inclusive); None = to the end of the year
    atc: frozenset[str] = frozenset()  # exact ATC codes, one of which the activity carries; empty = any
    basis: str = ""  # which seed gives the row, and what in it is an inference

    def in_force(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)


Check = Callable[[Any, Activity, Definitions], bool]  # (the row's cell, the activity, definition data) -> holds


@dataclass(frozen=True)
class StgCriterion:
    """What one filled column of an STG row asks of an activity."""

    fact: str  # the criterion in the domain's words
    column: str  # the stg.csv column (`StgRule` field) it reads
    holds: Check
    keys: Callable[[Activity], Iterable[str]] | None = None  # the activity's values a filled cell must be one of


def main_hdg(defs: Definitions, a: Activity) -> str | None:
    """The main condition's main diagnostic group (HDG, the MDC of the definition data's `dg` table)."""
    values = defs.dg.get(a.main_condition.replace(".", "").upper(), {})
    for vartype in ("MDC", "DGCAT"):
        for d_code, value in values.get(vartype, ()):
            if not d_code:
                return value[:2]
    return None


def _codes(a: Activity) -> Iterable[str]:
    return (*a.special_codes, a.drug_code) if a.drug_code else a.special_codes


# In check order, which is also the order in which the index picks the column to file a row under (rarest first).
STG_CRITERIA: tuple[StgCriterion, ...] = (
    StgCriterion(
        "the activity carries the row's procedure",
        "procedure",
        lambda v, a, d: v in a.procedures,
        lambda a: a.procedures,
    ),
    StgCriterion(
        "the activity carries the row's special code, or dispenses it as its drug code",
        "special_code",
        lambda v, a, d: v in a.special_codes or v == a.drug_code,
        _codes,
    ),
    StgCriterion(
        "the row is for the activity's kind (an episode or a prescription)",
        "source",
        lambda v, a, d: v == a.kind,
        lambda a: (a.kind,),
    ),
    StgCriterion(
        "the activity ends on or after the row's first day in force",
        "valid_from",
        lambda v, a, d: a.end is not None and v <= a.end.date(),
    ),
    StgCriterion(
        "the activity ends on or before the row's last day in force",
        "valid_to",
        lambda v, a, d: a.end is not None and a.end.date() <= v,
    ),
    StgCriterion(
        "an episode is of the row's sector (a prescription is of any)",
        "sector",
        lambda v, a, d: a.kind != "episode" or a.sector == v,
    ),
    StgCriterion(
        "the activity is of one of the row's care levels (joined by |)",
        "care_level",
        lambda v, a, d: a.care_level in v.split("|"),
    ),
    StgCriterion(
        "the activity carries an ATC code starting with the row's prefix",
        "atc_prefix",
        lambda v, a, d: any(c.startswith(v) for c in a.atc_codes),
    ),
    StgCriterion(
        "the activity carries one of the row's exact ATC codes", "atc", lambda v, a, d: not v.isdisjoint(a.atc_codes)
    ),
    StgCriterion(
        "the main condition (a prescription's indication) starts with the row's prefix",
        "indication_prefix",
        lambda v, a, d: a.main_condition.replace(".", "").startswith(v),
    ),
    StgCriterion(
        "the main condition is in the row's main diagnostic group (HDG)",
        "hdg",
        lambda v, a, d: main_hdg(d, a) == v,
    ),
)
CRITERION = {c.column: c for c in STG_CRITERIA}


def row_holds(r: StgRule, a: Activity, defs: Definitions) -> bool:
    """Every filled cell of the row holds for the activity (the declarations read directly, without the index)."""
    return all(c.holds(v, a, defs) for c in STG_CRITERIA if filled(v := getattr(r, c.column)))


def compile_row(r: StgRule) -> tuple[tuple[Check, Any], ...]:
    """The checks of a row's filled cells, in declaration order."""
    return tuple((c.holds, v) for c in STG_CRITERIA if filled(v := getattr(r, c.column)))


class StgIndex:
    """A rule year's STG rows, each compiled to the checks of its filled cells and filed under the first keyed
    column it fills (`STG_CRITERIA`); `first` gives the same row as a scan of every row in file order."""

    def __init__(self, rows: tuple[StgRule, ...]) -> None:
        keyed = [c for c in STG_CRITERIA if c.keys is not None]
        self.rows = rows
        self.checks = tuple(map(compile_row, rows))
        self.filed: dict[str, dict[str, list[int]]] = {c.column: {} for c in keyed}
        self.always: list[int] = []  # rows that fill no keyed column (tested for every activity)
        for i, r in enumerate(rows):
            column = next((c.column for c in keyed if filled(getattr(r, c.column))), None)
            if column is None:
                self.always.append(i)
            else:
                self.filed[column].setdefault(getattr(r, column), []).append(i)
        self._lookups = tuple((c.keys, self.filed[c.column]) for c in keyed if c.keys is not None)

    def candidates(self, a: Activity) -> list[int]:
        """Positions of the rows the activity can match, in file order."""
        found = list(self.always)
        for keys, filed in self._lookups:
            for k in keys(a):
                rows = filed.get(k)
                if rows:
                    found += rows
        return sorted(set(found)) if len(found) > 1 else found

    def first(self, a: Activity, defs: Definitions) -> StgRule | None:
        """The first row, in file order, whose filled cells all hold for the activity."""
        checks = self.checks
        for i in self.candidates(a):
            for check, v in checks[i]:
                if not check(v, a, defs):
                    break
            else:
                return self.rows[i]
        return None


def parse_stg_rows(rows: list[dict[str, str]], year: int) -> tuple[StgRule, ...]:
    """stg.csv's rows: one per way of qualifying; `hdg`, `atc`, `valid_from` and `valid_to` are optional columns.
    A row in force only part of the year (the drug logic is updated each tertial, seed 001) carries its
    dates; rows of one STG must agree on name, period and weight, which are per rule year."""
    out: list[StgRule] = []
    for i, r in enumerate(rows, start=2):
        where = f"stg.csv {year} line {i} ({r['stg']})"
        row = StgRule(
            r["stg"],
            r["name"],
            r["period"],
            dec(r["weight"], where),
            r["source"],
            r["sector"],
            r["care_level"],
            r["special_code"],
            r["procedure"],
            r["atc_prefix"],
            r["indication_prefix"],
            r.get("hdg", ""),
            day(r.get("valid_from", ""), where),
            day(r.get("valid_to", ""), where),
            frozenset(c for c in r.get("atc", "").split("|") if c),
            r.get("basis", ""),
        )
        if row.source not in SOURCES:
            raise RuleError(f"{where}: source {row.source!r} is not one of {', '.join(SOURCES)}")
        for d in (row.valid_from, row.valid_to):
            if d is not None and d.year != year:
                raise RuleError(f"{where}: {d} is outside rule year {year}")
        first = next((x for x in out if x.stg == row.stg), None)
        if first is not None and (first.name, first.period, first.weight) != (row.name, row.period, row.weight):
            raise RuleError(f"{where}: name, period and weight differ from the STG's first row")
        out.append(row)
    return tuple(out)
