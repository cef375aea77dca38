"""RBF: result-based financing between the four RHFs (seed 002), per rule year.

Staircase per indicator, relative to the target T: below 0.2T nothing; [0.2T, 0.4T) one
step x; [0.4T, 0.6T) 2x; [0.6T, 0.8T) 4x; 0.8T and above 5x, with x = the indicator's
points / (5 x number of RHFs). Raw points are weighted by the distribution key and
normalised; income_r = budget x key_r x raw_r / sum_s(key_s x raw_s).
"""
from __future__ import annotations

from decimal import Decimal

from ..rules import rule_year

TOTAL_POINTS = Decimal(100_000)
STEPS = ((Decimal("0.8"), 5), (Decimal("0.6"), 4), (Decimal("0.4"), 2), (Decimal("0.2"), 1))


def step(achievement: Decimal, target: Decimal) -> int:
    """Multiples of x earned: 0, 1, 2, 4 or 5."""
    for share, multiple in STEPS:
        if achievement >= share * target:
            return multiple
    return 0


def distribute(year: int, achievements: dict[str, dict[str, Decimal]], budget_nok: Decimal | None = None,
               key: dict[str, Decimal] | None = None) -> dict:
    params = rule_year(year).rbf
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
            x = weight * TOTAL_POINTS / (5 * len(rhfs))
            st = step(Decimal(achievements[r][ind]), params.targets[ind])
            raw[r] += st * x
            detail[r][ind] = {"step": st, "points": str(st * x)}
    weighted = {r: key[r] * raw[r] for r in rhfs}
    total = sum(weighted.values())
    nok_per_point = budget / TOTAL_POINTS
    norm = {r: TOTAL_POINTS * weighted[r] / total if total else Decimal(0) for r in rhfs}
    incomes = _to_ore({r: norm[r] * nok_per_point for r in rhfs}) if total else {r: Decimal("0.00") for r in rhfs}
    out = {"year": year, "budget_nok": str(budget), "nok_per_point": str(nok_per_point), "rhf": {}}
    for r in rhfs:
        out["rhf"][r] = {"raw_points": str(raw[r]), "normalised_points": str(norm[r].quantize(Decimal("0.0001"))),
                         "nok": str(incomes[r]), "indicators": detail[r]}
    return out


def _to_ore(exact: dict[str, Decimal]) -> dict[str, Decimal]:
    """Round to øre so that the parts still add up to the exact total (largest remainder)."""
    ore = Decimal("0.01")
    floors = {r: (v / ore).to_integral_value(rounding="ROUND_FLOOR") for r, v in exact.items()}
    short = int((sum(exact.values()) / ore).to_integral_value() - sum(floors.values()))
    for r in sorted(exact, key=lambda r: (exact[r] / ore - floors[r], r), reverse=True)[:max(0, short)]:
        floors[r] += 1
    return {r: (f * ore).quantize(ore) for r, f in floors.items()}
