"""ISF money and the replay summary, from settled totals (`stat|period` -> micro-points, count).

NOK = points x unit price x ISF share of the rule year and sector, in Decimal, rounded to
øre only at the end of each sum. RHF figures come twice: `rhf` by the producing HF's owner and
`rhf_sorge_for` by the patient's region of residence (what the state pays an RHF for).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable

from ..registry import hospitals
from ..rules import rule_year
from ..stats import PointStat, indicator_totals, point_totals

MICRO = Decimal(1_000_000)
ORE = Decimal("0.01")
RHF_SCOPES = ("rhf", "rhf_sorge_for")


def rhf_scopes(stat: PointStat) -> tuple[tuple[str, str], ...]:
    """The two RHF views of a point statistic: the producing HF's owner, and the region of residence."""
    return (("rhf", hospitals()[stat.hf].rhf), ("rhf_sorge_for", stat.residence))


def nok(year: int, sector: str, micro_points: int) -> Decimal:
    s = rule_year(year).sectors[sector]
    return Decimal(micro_points) / MICRO * s.unit_price_nok * s.isf_share


def summary(rows: Iterable[tuple[str, int, int]]) -> dict:
    """Points per HF and RHF by system, patient-period counts, NOK per HF and RHF (per rule year)."""
    rows = list(rows)
    out: dict = {"points": {}, "nok": {}, "counts": {}, "indicators": {}}
    nok_acc: dict[tuple[str, str, str], Decimal] = {}
    for st, _period, pts, cnt in point_totals(rows):
        year = str(st.year)
        money = nok(st.year, st.sector, pts)
        for scope, name in (("hf", st.hf), *rhf_scopes(st)):
            d = out["points"].setdefault(year, {}).setdefault(scope, {}).setdefault(name, {})
            d[st.system] = d.get(st.system, 0) + pts
            key = (year, scope, name)
            nok_acc[key] = nok_acc.get(key, Decimal(0)) + money
        c = out["counts"].setdefault(year, {}).setdefault(st.system, {})
        c[st.code] = c.get(st.code, 0) + cnt
    for (year, scope, name), v in nok_acc.items():
        out["nok"].setdefault(year, {}).setdefault(scope, {})[name] = str(v.quantize(ORE))
    for year in out["points"]:
        for scope in out["points"][year].values():
            for name, by_system in scope.items():
                scope[name] = {k: str(Decimal(v) / MICRO) for k, v in sorted(by_system.items())}
    for ist, period, cnt in indicator_totals(rows):
        d = out["indicators"].setdefault(str(ist.year), {}).setdefault(ist.hf, {}).setdefault(period, {})
        d[ist.name] = d.get(ist.name, 0) + cnt
    return out


def points_by_hf(rows: Iterable[tuple[str, int, int]]) -> dict[str, int]:
    """Micro-points per rule year and HF: the figure streaming and replay must agree on exactly."""
    acc: dict[str, int] = {}
    for st, _period, pts, _n in point_totals(rows):
        acc[f"{st.year}|{st.hf}"] = acc.get(f"{st.year}|{st.hf}", 0) + pts
    return dict(sorted(acc.items()))
