"""The monitor's materialised view: points and NOK per HF, RHF (by owner and by residence) and nation,
by system, sector and period.

Built from settled totals by the settlement service (once a second) so a request reads one hash
field instead of summing totals. Periods are the tertials and the whole year; counts are DRG
episodes and STG/TFG patient-periods per HF.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable

from ..periods.calendar import tertial_of_label
from ..registry import hospitals
from ..stats import point_totals
from .money import MICRO, ORE, nok, rhf_scopes


def summary_view(rows: Iterable[tuple[str, int, int]]) -> dict:
    reg = hospitals()
    years: dict = {}
    # Micro-points are summed as integers per (HF, sector, system, residence, period) before they fan out to
    # the scopes with their NOK: one Decimal sum per group instead of per DRG code (the view is rebuilt every
    # second from totals that hold thousands of codes). NOK is linear and exact in Decimal, so the sums are equal.
    groups: dict[tuple, list] = {}  # (year, hf, sector, system, residence, period) -> [a stat of it, micro-points]
    for st, period, pts, cnt in point_totals(rows):
        y = years.setdefault(str(st.year), {"hf": {}, "rhf": {}, "rhf_sorge_for": {}, "national": {}, "counts": {}})
        c = y["counts"].setdefault(st.hf, {}).setdefault(st.system, {})
        c[st.code] = c.get(st.code, 0) + cnt
        g = groups.setdefault((st.year, st.hf, st.sector, st.system, st.residence, period), [st, 0])
        g[1] += pts
    for (year, hf, sector, system, _residence, period), (st, pts) in groups.items():
        y = years[str(year)]
        money = nok(year, sector, pts)
        for label in (tertial_of_label(period), str(year)):
            for scope, name in (("hf", hf), *rhf_scopes(st), ("national", "all")):
                entry = y[scope].setdefault(name, {}).setdefault(label, {"points": {}, "micro": 0, "nok": Decimal(0)})
                entry["points"][f"{system}|{sector}"] = entry["points"].get(f"{system}|{sector}", 0) + pts
                entry["micro"] += pts
                entry["nok"] += money
    out: dict = {}
    for year, y in sorted(years.items()):

        def fmt(periods: dict) -> dict:
            return {
                p: {
                    "points": {k: str(Decimal(v) / MICRO) for k, v in sorted(e["points"].items()) if v},
                    "points_total": str(Decimal(e["micro"]) / MICRO),
                    "nok": str(e["nok"].quantize(ORE)),
                }
                for p, e in sorted(periods.items())
            }

        out[year] = {
            "hf": {hf: {"rhf": reg[hf].rhf, "periods": fmt(p)} for hf, p in sorted(y["hf"].items())},
            "rhf": {r: {"periods": fmt(p)} for r, p in sorted(y["rhf"].items())},
            "rhf_sorge_for": {r: {"periods": fmt(p)} for r, p in sorted(y["rhf_sorge_for"].items())},
            "national": {"periods": fmt(y["national"].get("all", {}))},
            "counts": {
                hf: {s: dict(sorted((k, v) for k, v in codes.items() if v)) for s, codes in sorted(sy.items())}
                for hf, sy in sorted(y["counts"].items())
            },
        }
    return {"years": out}
