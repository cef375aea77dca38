"""What a grouped activity contributes to ISF points: DRG episodes, STG and TFG patient-periods.

Stat keys: `P|year|hf|sector|system|code` for points earned, `S|...` for points a member
DRG/STG would have earned but that moved to its TFG (suppressed, kept for management
information). Patient-periods are counted per HF: a patient treated by two HFs counts in both.
"""
from __future__ import annotations

from decimal import Decimal

from ..events import Delta
from ..grouping.activity import Grouped
from ..rules import rule_year
from .calendar import label, score
from .ledger import Contributions, Unit

NAMESPACE = "pts"


def micro(points: Decimal) -> int:
    return int((points * 1_000_000).to_integral_value())


def point_contributions(g: Grouped) -> Contributions:
    if not g.counts:
        return Contributions()
    a, y = g.activity, g.rule_year
    rules = rule_year(y)
    sector = a.sector if a.kind == "episode" else "somatic"
    liable = g.isf_liable
    day = a.end.date()
    tertial = label("tertial", day)
    base = f"{y}|{a.hf}|{sector}"
    items: list[Delta] = []
    units: list[tuple[Unit, int]] = []
    sc = score(day)

    def member(system: str, code: str, own_micro: int, own_unit: Unit | None) -> None:
        tfg = rules.tfg_of_member.get((system, code))
        moved = tfg is not None and tfg.finances
        if own_unit is None:
            items.append(Delta(stat=f"P|{base}|{system}|{code}", period=tertial, points_micro=0 if moved else own_micro, count=1))
            if moved:
                items.append(Delta(stat=f"S|{base}|{system}|{code}", period=tertial, points_micro=own_micro, count=1))
        else:
            units.append((Unit(own_unit.stat, a.patient, own_unit.period, 0 if moved else own_micro, own_unit.by_first), sc))
            if moved:
                units.append((Unit("S" + own_unit.stat[1:], a.patient, own_unit.period, own_micro, own_unit.by_first), sc))
        if tfg is not None:
            w = micro(tfg.weight) if liable else 0
            units.append((Unit(f"P|{base}|TFG|{tfg.tfg}", a.patient, label(tfg.period, day), w, tfg.period == "year"), sc))

    if g.drg is not None:
        member("DRG", g.drg, micro(g.drg_points), None)
    if g.stg is not None:
        stg = rules.stgs[g.stg]
        kind = stg.period
        w = micro(stg.weight) if liable else 0
        member("STG", g.stg, w, Unit(f"P|{base}|STG|{g.stg}", a.patient, label(kind, day), w, kind == "year"))
    return Contributions(tuple(items), tuple(units))
