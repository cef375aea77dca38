"""What a grouped activity contributes to ISF points: DRG episodes, STG and TFG patient-periods.

Stat keys (`isf.stats.PointStat`): `P|year|hf|sector|system|code|residence` for points earned
(system DRG, STG, TFG, or SUPP for a point supplement of a DRG episode, code = the supplement's),
`S|...` for points a member DRG/STG would have earned but that moved to its TFG (suppressed, kept
for management information). STG patient-periods are counted per HF (seed 003 sec. 8.4/8.9 counts STG
periods per patient within the producing unit). A TFG patient-period is one unit nationally (seed 003
sec. 5.1, "på tvers av helseforetak og regioner"): it is credited to the HF of its first member (earliest
activity date, then lowest source id) and to that member's region of residence; the ledger moves the credit
when that member is corrected or withdrawn. Only ISF-financed activity is a member of a unit.

Management information beside the money: `R|...` block-funded stays (DRG and weight, `block_funded`), `N|...`
activity outside ISF's debtors (counted, no points), `H|...` the STG patient-periods of an H-resept provider
without drug financing responsibility, moved to the HF that finances them (`isf.registry.drug_financing_hf`).
"""

from __future__ import annotations

from decimal import Decimal

from ..events import Delta
from ..grouping.activity import Grouped
from ..grouping.mapping import length_of_stay
from ..registry import drug_financing_hf
from ..rules import Supplement, rule_year
from ..rules.supplements import supplement_holds
from ..stats import PointStat
from .calendar import label, score
from .ledger import Contributions, Unit, contributions

NAMESPACE = "pts"


def micro(points: Decimal) -> int:
    return int((points * 1_000_000).to_integral_value())


def supplements_of(g: Grouped) -> list[Supplement]:
    """The rule year's point supplements (params.json `supplements`) an ISF-financed DRG episode earns, each
    its own item (stat system `SUPP`): they show apart from the DRG points and go through the same ledger. Each
    supplement's criteria are declared one per field in `isf.rules.supplements`."""
    if g.drg is None or not g.isf_financed or g.rule_year is None:
        return []
    return [s for s in rule_year(g.rule_year).supplements if supplement_holds(s, g.activity)]


def point_contributions(g: Grouped) -> Contributions:
    if not g.counts:
        return Contributions()
    a, y = g.activity, g.rule_year
    assert y is not None and a.end is not None  # g.counts: grouped under a rule year, so ended
    if not g.isf_financed:
        return unfinanced_contributions(g)
    rules = rule_year(y)
    sector = a.sector if a.kind == "episode" else "somatic"
    # an H-resept prescription is the money of the HF that finances the provider's drugs (isf.registry)
    hf = drug_financing_hf(a.hf) if a.kind == "prescription" else a.hf
    day = a.end.date()
    tertial = label("tertial", day)
    items: list[Delta] = []
    units: list[tuple[Unit, int]] = []
    sc = score(day)

    def stat(system: str, code: str, kind: str = "P", of: str = hf) -> PointStat:
        return PointStat(kind, y, of, sector, system, code, a.residence)

    def member(system: str, code: str, own_micro: int, period: str | None, by_first: bool = False) -> None:
        """A DRG episode (period None: an item of its tertial) or an STG patient-period of this HF."""
        tfg = rules.tfg_of_member.get((system, code))
        moved = tfg is not None and tfg.finances
        own = stat(system, code)
        if period is None:
            items.append(Delta(stat=str(own), period=tertial, points_micro=0 if moved else own_micro, count=1))
            if moved:
                items.append(Delta(stat=str(own.suppressed()), period=tertial, points_micro=own_micro, count=1))
        else:
            for st, pts in ((own, 0 if moved else own_micro), *(((own.suppressed(), own_micro),) if moved else ())):
                # unique per HF (whatever the residence of each member): one unit per HF, STG and period
                group = f"{st.kind}|{y}|{hf}|{system}|{code}"
                units.append((Unit(group, a.patient, period, str(st), pts, by_first), sc))
            if hf != a.hf:
                # what the provider's patient-periods would have been: shown as moved to the financing HF
                h = stat(system, code, "H", a.hf)
                group = f"H|{y}|{a.hf}|{system}|{code}"
                units.append((Unit(group, a.patient, period, str(h), own_micro, by_first), sc))
        if tfg is not None:
            tfg_unit = Unit(
                f"TFG|{y}|{tfg.tfg}",
                a.patient,
                label(tfg.period, day),
                str(stat("TFG", tfg.tfg)),
                micro(tfg.weight),
                tfg.period == "year",
            )
            units.append((tfg_unit, sc))

    if g.drg is not None:
        member("DRG", g.drg, micro(g.drg_points), None)
        for sup in supplements_of(g):
            pts = micro(sup.points_for(length_of_stay(a)))
            items.append(Delta(stat=str(stat("SUPP", sup.code)), period=tertial, points_micro=pts, count=1))
    if g.stg is not None:
        stg = rules.stgs[g.stg]
        member("STG", g.stg, micro(stg.weight), label(stg.period, day), stg.period == "year")
    return contributions(items, units)


def unfinanced_contributions(g: Grouped) -> Contributions:
    """Activity ISF does not finance is counted and never money: items of its own kind (`N` outside ISF's debtors,
    `R` block-funded, with the DRG's weight as management information), in no patient-period or TFG unit, so it can
    never be the member that decides which HF or region a unit credits, nor what the unit is worth."""
    a, y = g.activity, g.rule_year
    assert y is not None and a.end is not None
    kind = "R" if g.isf_liable else "N"
    sector = a.sector if a.kind == "episode" else "somatic"
    tertial = label("tertial", a.end.date())
    items = []
    if g.drg is not None:
        st = PointStat(kind, y, a.hf, sector, "DRG", g.drg, a.residence)
        items.append(Delta(str(st), tertial, micro(g.drg_points) if kind == "R" else 0, 1))
    if g.stg is not None:
        items.append(Delta(str(PointStat(kind, y, a.hf, sector, "STG", g.stg, a.residence)), tertial, 0, 1))
    return contributions(items, [])
