"""RBF: result-based financing between the four RHFs (seed 002), per budget year.

Data years (seed 002 sec. 1.2 and 4.1.2): RBF for budget year B is computed from NPR data of B-1
(provisional: its first tertial; final: the whole year) and NKI values of B-2, the same NKI in both.
Staircase per indicator from the budget year's parameters: an achievement from a step's threshold
earns that step's multiple of x, x = the indicator's points / (top multiple x number of RHFs). Raw
points are weighted by the distribution key and normalised;
income_r = budget x key_r x raw_r / sum_s(key_s x raw_s).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..rules import YEARS, RbfParams, RuleError, rule_year

TOTAL_POINTS = Decimal(100_000)
KINDS = ("provisional", "final")


@dataclass(frozen=True)
class DataYears:
    """What RBF for one budget year is computed from."""

    budget_year: int
    npr_period: str  # "2025-T1" (provisional) or "2025" (final): a period label of the indicator totals
    nki_year: int

    @property
    def npr_year(self) -> int:
        return self.budget_year - 1


def data_years(budget_year: int, kind: str) -> DataYears:
    if kind not in KINDS:
        raise ValueError(f"unknown RBF kind {kind!r}: expected provisional or final")
    npr = budget_year - 1
    return DataYears(budget_year, f"{npr}-T1" if kind == "provisional" else str(npr), budget_year - 2)


def params_for(budget_year: int) -> tuple[int, RbfParams]:
    """The parameters of the budget year, or of the latest earlier rule year when it has none yet (e.g. RBF
    2027 forming from 2026 data): (the year whose parameters are used, the parameters)."""
    known = [y for y in YEARS if y <= budget_year]
    if not known:
        raise RuleError(f"no RBF parameters for budget year {budget_year} or earlier; rule years: {YEARS}")
    return max(known), rule_year(max(known)).rbf


def step(achievement: Decimal, steps: tuple[tuple[Decimal, int], ...]) -> int:
    """Multiple of x earned: that of the highest step whose threshold the achievement reaches, else 0."""
    earned = 0
    for threshold, multiple in steps:
        if achievement >= threshold:
            earned = multiple
    return earned


def distribute(
    budget_year: int,
    achievements: dict[str, dict[str, Decimal]],
    budget_nok: Decimal | None = None,
    key: dict[str, Decimal] | None = None,
) -> dict:
    params_year, params = params_for(budget_year)
    budget = params.budget_nok if budget_nok is None else Decimal(budget_nok)
    key = params.key if key is None else {k: Decimal(v) for k, v in key.items()}
    rhfs = sorted(achievements)
    unknown = [r for r in rhfs if r not in key]
    if unknown:
        raise ValueError(f"no distribution key for {unknown}")
    raw: dict[str, Decimal] = {}
    detail: dict[str, dict] = {}
    for r in rhfs:
        raw[r] = Decimal(0)
        detail[r] = {}
        for ind, weight in params.weights.items():
            if ind not in achievements[r]:
                continue
            steps = params.steps[ind]
            x = weight * TOTAL_POINTS / (max(m for _t, m in steps) * len(rhfs))
            st = step(Decimal(achievements[r][ind]), steps)
            raw[r] += st * x
            detail[r][ind] = {"step": st, "points": str(st * x)}
    weighted = {r: key[r] * raw[r] for r in rhfs}
    total = sum(weighted.values())
    nok_per_point = budget / TOTAL_POINTS
    norm = {r: TOTAL_POINTS * weighted[r] / total if total else Decimal(0) for r in rhfs}
    incomes = _to_ore({r: norm[r] * nok_per_point for r in rhfs}) if total else {r: Decimal("0.00") for r in rhfs}
    lines: dict[str, dict] = {}
    out = {
        "budget_year": budget_year,
        "params_year": params_year,
        "budget_nok": str(budget),
        "nok_per_point": str(nok_per_point),
        "rhf": lines,
    }
    for r in rhfs:
        lines[r] = {
            "raw_points": str(raw[r]),
            "normalised_points": str(norm[r].quantize(Decimal("0.0001"))),
            "nok": str(incomes[r]),
            "indicators": detail[r],
        }
    return out


def base_grants(budget: Decimal, key: dict[str, Decimal]) -> dict[str, Decimal]:
    """Each RHF's share of the RBF budget by the base grant's key, in øre adding up to the budget: what a
    distribution "etter basisbevilgningen" gives (seed 000), against which RBF income is compared."""
    return _to_ore({r: budget * k for r, k in key.items()})


def _to_ore(exact: dict[str, Decimal]) -> dict[str, Decimal]:
    """Round to øre so that the parts still add up to the exact total (largest remainder)."""
    ore = Decimal("0.01")
    floors = {r: (v / ore).to_integral_value(rounding="ROUND_FLOOR") for r, v in exact.items()}
    short = int((sum(exact.values()) / ore).to_integral_value() - sum(floors.values()))
    for r in sorted(exact, key=lambda r: (exact[r] / ore - floors[r], r), reverse=True)[: max(0, short)]:
        floors[r] += 1
    return {r: (f * ore).quantize(ore) for r, f in floors.items()}
