"""The parameters of params.json besides the supplements: point deductions, activity outside ISF, the sectors'
money, the block-funded stays and RBF (its budget, key, weights, targets, staircases and unique-patient
indicators), each read into its own type."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .cells import RuleError, icd


@dataclass(frozen=True)
class DrgDeduction:
    """A point deduction for some cases of some DRGs (`drg_deductions` in params.json): the points are
    multiplied by `factor` when the DRG is listed, the urgency matches, the stay is shorter than
    `under_hours` and the main condition starts with one of `main_conditions` (all given conditions hold)."""

    name: str
    drgs: frozenset[str]
    factor: Decimal
    urgency: str = ""
    under_hours: Decimal | None = None
    main_conditions: tuple[str, ...] = ()


@dataclass(frozen=True)
class NotInIsf:
    """Activity a rule year keeps outside ISF whatever its debtor (`not_in_isf` in params.json): it is
    grouped and counted, and earns no ISF points. It matches when the main condition starts with one of
    `main_conditions` and the activity carries one of `procedures` (each condition only when given)."""

    name: str
    main_conditions: tuple[str, ...] = ()
    procedures: frozenset[str] = frozenset()


@dataclass(frozen=True)
class UniqueIndicator:
    """An RBF indicator over unique patients per HF (2-8; `rbf_indicators` in params.json, seed 002's appendix).
    Numerator: the patients of `population` with an ISF-counting activity that has one of `stgs` or `procedures`.
    Denominator (`denominator`, shared by the indicators that name it): the patients of `population` with an
    ISF-counting episode ("Kun tellende ISF-opphold": debtor in ISF, financed by ISF, no H-resept dispensing) and,
    where `indirect` holds, indirect activity too: the collaboration STGs are earned without the patient present,
    and their patients then count in both (numerator within denominator)."""

    id: str
    population: str  # "all", "somatic" or "phv_tsb"
    stgs: frozenset[str] = frozenset()
    procedures: frozenset[str] = frozenset()
    indirect: bool = False

    @property
    def denominator(self) -> str:
        return f"patients|{self.population}{'+indirect' if self.indirect else ''}"


@dataclass(frozen=True)
class SectorMoney:
    unit_price_nok: Decimal
    isf_share: Decimal


@dataclass(frozen=True)
class RbfParams:
    """RBF of one budget year: budget, distribution key (shares summing to 1), indicator weights, targets and
    staircase steps (per indicator: (achievement in percent from which it earns, multiple of x), ascending)."""

    budget_nok: Decimal
    key: dict[str, Decimal]
    weights: dict[str, Decimal]
    targets: dict[str, Decimal]  # percent
    steps: dict[str, tuple[tuple[Decimal, int], ...]]


def parse_rbf(p: dict) -> RbfParams:
    """The `rbf` block of params.json; a key given as base-grant figures becomes their exact ratios."""
    basis = {k: Decimal(v) for k, v in (p.get("base_grant_mnok") or p["key"]).items()}
    total = sum(basis.values())
    return RbfParams(
        Decimal(p["budget_nok"]),
        {k: v / total for k, v in basis.items()},
        {k: Decimal(v) for k, v in p["weights"].items()},
        {k: Decimal(v) for k, v in p["targets"].items()},
        {i: tuple(sorted((Decimal(t), int(m)) for t, m in s.items())) for i, s in p["steps"].items()},
    )


def parse_deductions(p: dict) -> tuple[DrgDeduction, ...]:
    return tuple(
        DrgDeduction(
            d["name"],
            frozenset(d["drgs"]),
            Decimal(d["factor"]),
            d.get("urgency", ""),
            Decimal(d["under_hours"]) if d.get("under_hours") is not None else None,
            icd(d.get("main_conditions", ())),
        )
        for d in p.get("drg_deductions", ())
    )


def parse_not_in_isf(p: dict) -> tuple[NotInIsf, ...]:
    return tuple(
        NotInIsf(n["name"], icd(n.get("main_conditions", ())), frozenset(n.get("procedures", ())))
        for n in p.get("not_in_isf", ())
    )


def parse_block_funded(p: dict) -> frozenset[tuple[str, str]]:
    return frozenset((b["sector"], b["care_level"]) for b in p.get("block_funded", {}).get("rows", ()))


POPULATIONS = ("all", "somatic", "phv_tsb")


def parse_indicators(p: dict) -> tuple[UniqueIndicator, ...]:
    out = tuple(
        UniqueIndicator(
            str(i["id"]),
            i["population"],
            frozenset(i.get("stgs", ())),
            frozenset(i.get("procedures", ())),
            bool(i.get("indirect", False)),
        )
        for i in p["rbf_indicators"]["unique"]
    )
    bad = [i.id for i in out if i.population not in POPULATIONS or not (i.stgs or i.procedures)]
    if bad or len({i.id for i in out}) != len(out):
        raise RuleError(f"params.json rbf_indicators: bad or repeated indicators {bad or [i.id for i in out]}")
    return out
