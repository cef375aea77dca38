"""What a grouped activity contributes to ISF points: DRG episodes, STG and TFG patient-periods.

Stat keys (`isf.stats.PointStat`): `P|year|hf|sector|system|code|residence` for points earned
(system DRG, STG, TFG, or SUPP for a point supplement of a DRG episode, code = the supplement's),
`S|...` for points a member DRG/STG would have earned but that moved to its TFG (suppressed, kept
for management information). STG patient-periods are counted per HF. A TFG patient-period is one
unit nationally (seed 003 sec. 5.1, "på tvers av helseforetak og regioner"): it is credited to the HF
of its first member (earliest activity date, then lowest source id) and to that member's region of
residence; the ledger moves the credit when that member is corrected or withdrawn.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from ..events import Activity, Delta
from ..grouping.activity import Grouped
from ..grouping.mapping import length_of_stay
from ..rules import Supplement, SupplementException, rule_year
from ..stats import PointStat
from .calendar import label, score
from .ledger import Contributions, Unit, contributions

NAMESPACE = "pts"


def micro(points: Decimal) -> int:
    return int((points * 1_000_000).to_integral_value())


def age_in_year(a: Activity) -> int | None:
    """The age the patient turns in the calendar year the activity ends (from the age at its start)."""
    if a.age_days is None or a.start is None or a.end is None:
        return None
    return a.end.year - (a.start.date() - timedelta(days=a.age_days)).year


def supplement_holds(s: Supplement, g: Grouped) -> bool:
    a = g.activity
    if a.kind != "episode" or a.sector not in s.sectors or (s.care_levels and a.care_level not in s.care_levels):
        return False
    if s.conditions and not any(
        c.replace(".", "").upper().startswith(s.conditions) for c in (a.main_condition, *a.secondary_conditions)
    ):
        return False
    if s.age_in_year_below is not None:
        age = age_in_year(a)
        if age is None or age >= s.age_in_year_below:
            return False
    return not any(exception_holds(x, a) for x in s.exceptions)


def exception_holds(x: SupplementException, a: Activity) -> bool:
    """Whether the activity is one a supplement leaves out: it carries one of the exception's codes, of a
    patient under its age limit (when it has one)."""
    if not (
        any(c.startswith(x.atc) for c in a.atc_codes)
        or not x.special_codes.isdisjoint(a.special_codes)
        or not x.procedures.isdisjoint(a.procedures)
    ):
        return False
    if x.age_in_year_below is None:
        return True
    age = age_in_year(a)
    return age is not None and age < x.age_in_year_below


def supplements_of(g: Grouped) -> list[Supplement]:
    """The rule year's point supplements (params.json `supplements`) an ISF-liable DRG episode earns, each
    its own item (stat system `SUPP`): they show apart from the DRG points and go through the same ledger."""
    if g.drg is None or not g.isf_liable or g.rule_year is None:
        return []
    return [s for s in rule_year(g.rule_year).supplements if supplement_holds(s, g)]


def point_contributions(g: Grouped) -> Contributions:
    if not g.counts:
        return Contributions()
    a, y = g.activity, g.rule_year
    assert y is not None and a.end is not None  # g.counts: grouped under a rule year, so ended
    rules = rule_year(y)
    sector = a.sector if a.kind == "episode" else "somatic"
    liable = g.isf_liable
    day = a.end.date()
    tertial = label("tertial", day)
    items: list[Delta] = []
    units: list[tuple[Unit, int]] = []
    sc = score(day)

    def stat(system: str, code: str) -> PointStat:
        return PointStat("P", y, a.hf, sector, system, code, a.residence)

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
                units.append(
                    (Unit(f"{st.kind}|{y}|{a.hf}|{system}|{code}", a.patient, period, str(st), pts, by_first), sc)
                )
        if tfg is not None:
            w = micro(tfg.weight) if liable else 0
            units.append(
                (
                    Unit(
                        f"TFG|{y}|{tfg.tfg}",
                        a.patient,
                        label(tfg.period, day),
                        str(stat("TFG", tfg.tfg)),
                        w,
                        tfg.period == "year",
                    ),
                    sc,
                )
            )

    if g.drg is not None:
        member("DRG", g.drg, micro(g.drg_points), None)
        for sup in supplements_of(g):
            pts = sup.points * max(1, length_of_stay(a)) if sup.per_day else sup.points
            items.append(Delta(stat=str(stat("SUPP", sup.code)), period=tertial, points_micro=micro(pts), count=1))
    if g.stg is not None:
        stg = rules.stgs[g.stg]
        member("STG", g.stg, micro(stg.weight) if liable else 0, label(stg.period, day), stg.period == "year")
    return contributions(items, units)
