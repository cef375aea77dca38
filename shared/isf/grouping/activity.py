"""Group one activity under its rule year: DRG and points for episodes, STG for special services."""

from __future__ import annotations

import functools
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from ..events import Activity
from ..rules import MICRO, DrgDeduction, NotInIsf, RuleYear, data_version, rule_year
from ..rules.stg import row_holds
from .engine import DrgResult, group_case
from .mapping import length_of_stay, to_case


class Grouped(BaseModel):
    """The grouper's output: the activity, its rule year, DRG result and points, STG."""

    model_config = ConfigDict(frozen=True)

    activity: Activity
    rule_year: int | None  # None: nothing to group (deleted, or an admission still ongoing)
    drg: str | None = None
    mdc: str | None = None
    ord: str | None = None
    rtc: str | None = None
    drg_points: Decimal = Decimal(0)
    stg: str | None = None
    explanation: dict | None = None
    cc: int = 0  # complication level the DRG logic saw (`Features.cc_level`): the coding feedback's CC share
    rules: str = ""  # the version of the rule year's data it was grouped under (`rules.data_version`)

    @classmethod
    def of_drg(
        cls, a: Activity, year: int, r: DrgResult, points: Decimal, stg: str | None, explanation: dict | None
    ) -> Grouped:
        """`Grouped(activity=a, rule_year=year, drg=r.drg, ..., explanation=explanation)` for values the grouper
        made itself, without validating them again: what pydantic's `model_construct` does, in under half the time
        validation takes (`model_construct` takes twice as long). The grouping tests hold both to be equal."""
        g = cls.__new__(cls)
        _set(
            g,
            "__dict__",
            {
                "activity": a,
                "rule_year": year,
                "drg": r.drg,
                "mdc": r.mdc,
                "ord": r.ord,
                "rtc": r.rtc,
                "drg_points": points,
                "stg": stg,
                "explanation": explanation,
                "cc": r.cc,
                "rules": data_version(year),
            },
        )
        _set(g, "__pydantic_fields_set__", set(_ALL_FIELDS))
        _set(g, "__pydantic_extra__", None)
        _set(g, "__pydantic_private__", None)
        return g

    @functools.cached_property  # asked by every ledger and rule of an activity
    def counts(self) -> bool:
        """Whether anything is derived from it: not deleted and grouped under a rule year."""
        return self.rule_year is not None and not self.activity.deleted

    @functools.cached_property
    def isf_liable(self) -> bool:
        """Reported with a debtor inside ISF (debtor 11) and not activity the rule year keeps out of ISF
        (`not_in_isf`). Activity outside ISF is counted, never money."""
        if not self.counts:
            return False
        rules = rule_year(self.rule_year)
        return self.activity.debtor in rules.isf_debtors and not outside_isf(rules, self.activity)

    @functools.cached_property
    def block_funded(self) -> bool:
        """A stay the block grant alone finances (the rule year's `block_funded`: PHV/TSB inpatient stays): its DRG
        and weight are management information, never ISF money."""
        a = self.activity
        return (
            self.counts and a.kind == "episode" and (a.sector, a.care_level) in rule_year(self.rule_year).block_funded  # type: ignore[arg-type]
        )

    @functools.cached_property
    def isf_financed(self) -> bool:
        """What ISF pays for and counts ("tellende ISF-opphold"): debtor inside ISF, not block-funded."""
        return self.isf_liable and not self.block_funded


_ALL_FIELDS = frozenset(Grouped.model_fields)
_set = object.__setattr__  # Grouped is frozen: its own __setattr__ refuses


def activity_year(a: Activity) -> int | None:
    return a.end.year if a.end is not None else None


def not_in_isf_holds(n: NotInIsf, a: Activity) -> bool:
    if n.procedures and n.procedures.isdisjoint(a.procedures):
        return False
    return not n.main_conditions or a.main_condition.replace(".", "").upper().startswith(n.main_conditions)


def outside_isf(rules: RuleYear, a: Activity) -> bool:
    """Whether the rule year keeps this activity outside ISF whatever its debtor (`not_in_isf` in params.json)."""
    return any(not_in_isf_holds(n, a) for n in rules.not_in_isf)


def drg_points(rules: RuleYear, a: Activity, drg: str | None) -> Decimal:
    """Cost weight, plus per-day weight beyond the trim point, times the acute factor; 0 outside ISF."""
    if drg is None or a.debtor not in rules.isf_debtors or outside_isf(rules, a):
        return Decimal(0)
    w = rules.weights.get(drg)
    if w is None:
        return Decimal(0)
    acute = a.urgency == "acute"
    extra_days = length_of_stay(a) - w.trim_days if w.trim_days else 0
    deductions = rules.deductions_by_drg.get(drg, ())
    if extra_days <= 0 and not deductions:
        return rules.base_points[drg][acute]  # the common case, worked out once per rule year
    points = w.weight
    if extra_days > 0:
        points += extra_days * w.per_day_weight
    if acute:
        points *= w.acute_factor
    for d in deductions:
        if deduction_holds(d, a, drg):
            points *= d.factor
    return points.quantize(MICRO)


def stay_hours(a: Activity) -> Decimal | None:
    if a.start is None or a.end is None:
        return None
    return Decimal((a.end - a.start).total_seconds()) / 3600


def deduction_holds(d: DrgDeduction, a: Activity, drg: str) -> bool:
    """Whether a rule-year point deduction (`drg_deductions` in params.json) applies to this case."""
    if drg not in d.drgs or (d.urgency and a.urgency != d.urgency):
        return False
    if d.under_hours is not None:
        hours = stay_hours(a)
        if hours is None or hours >= d.under_hours:
            return False
    main = a.main_condition.replace(".", "").upper()
    return not d.main_conditions or main.startswith(d.main_conditions)


def stg_of(rules: RuleYear, a: Activity) -> str | None:
    """The first STG row, in file order, that holds for the activity (an activity gives at most one STG): each row
    holds when every criterion of a column it fills holds (`isf.rules.stg.STG_CRITERIA`). Only the rows the index
    files under the activity's own codes are tried: the same answer as a scan of every row."""
    r = rules.stg_index.first(a, rules.definitions)
    return r.stg if r is not None else None


def stg_of_by_scan(rules: RuleYear, a: Activity) -> str | None:
    """`stg_of` without the index: every row in file order, its criteria read from the declarations (the reference
    the index is tested against)."""
    for r in rules.stg_rules:
        if row_holds(r, a, rules.definitions):
            return r.stg
    return None


def group_activity(a: Activity, year: int | None = None, explain: bool = False) -> Grouped:
    """Group under `year`, or under the year the activity ended (its rule year)."""
    y = year or activity_year(a)
    if a.deleted or y is None:
        return Grouped(activity=a, rule_year=None)
    rules = rule_year(y)
    stg = stg_of(rules, a)
    if a.kind == "prescription" or a.care_level == "indirect":
        return Grouped(activity=a, rule_year=y, stg=stg, rules=data_version(y))
    r = group_case(rules.definitions, to_case(a), explain=explain)
    return Grouped.of_drg(a, y, r, drg_points(rules, a, r.drg), stg, r.explanation if explain else None)
