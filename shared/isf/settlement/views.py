"""The monitor's materialised view: points and NOK per HF, RHF (by owner and by residence) and nation,
by system, sector and period.

The view is built from its *sums*: micro-points per (year, HF, sector, system, residence, period) and counts per
(year, HF, system, code), the totals with the one dimension each part of the view does not show summed out. The
settlement script keeps the sums beside the totals, in the same call (`view_fields` names the two a delta adds
to), so building the view reads a few thousand sums however many totals a year holds, instead of summing every
total each time; `view_sums` is the same sums taken from totals rows (replay, tests, a rebuild after an upgrade).
Periods are the tertials and the whole year; counts are DRG episodes and STG/TFG patient-periods per HF. A part
whose sums are all zero is not shown (a total that came and went is the same as none).
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Iterable

from ..periods.calendar import tertial_of_label
from ..registry import hospitals
from ..stats import PointStat, Stat, decode_stat, decode_total
from .money import MICRO, ORE, nok, rhf_scopes

ViewSums = tuple[dict[str, int], dict[str, int]]  # (micro-points by points field, count by count field)


@functools.lru_cache(maxsize=1 << 16)  # stat keys and periods repeat: settlement asks for every delta it sums
def view_fields(stat: str, period: str) -> tuple[str, str] | None:
    """The view sums a delta of `stat|period` adds to: its micro-points to `year|hf|sector|system|residence|period`
    and its count to `year|hf|system|code`; None for what the view does not show (indicators, coding feedback,
    points that are not earned). A stat key it cannot read raises `isf.stats.StatError`: a key of another layout
    is never left out of the view without a word (settlement sets such a batch aside before it gets here)."""
    return _fields(decode_stat(stat), period)


def _fields(st: Stat, period: str) -> tuple[str, str] | None:
    if not isinstance(st, PointStat) or st.kind != "P":
        return None
    return (
        f"{st.year}|{st.hf}|{st.sector}|{st.system}|{st.residence}|{period}",
        f"{st.year}|{st.hf}|{st.system}|{st.code}",
    )


def view_sums(rows: Iterable[tuple[str, int, int]]) -> ViewSums:
    """The view sums of totals rows, zeros left out (as `read_view_sums` leaves them out of the kept sums); a row
    whose key cannot be read raises `isf.stats.StatError` naming it."""
    points: dict[str, int] = {}
    counts: dict[str, int] = {}
    for key, pts, cnt in rows:
        fields = _fields(*decode_total(key))
        if fields is not None:
            points[fields[0]] = points.get(fields[0], 0) + pts
            counts[fields[1]] = counts.get(fields[1], 0) + cnt
    return {f: v for f, v in points.items() if v}, {f: v for f, v in counts.items() if v}


def _period_view(year: int, micro: dict[tuple[str, str], int]) -> dict:
    """One scope's period: points by `system|sector`, their total and NOK (priced per sector, rounded once)."""
    by_sector: dict[str, int] = {}
    for (_system, sector), m in micro.items():
        by_sector[sector] = by_sector.get(sector, 0) + m
    return {
        "points": dict(sorted((f"{sy}|{se}", str(Decimal(v) / MICRO)) for (sy, se), v in micro.items() if v)),
        "points_total": str(Decimal(sum(micro.values())) / MICRO),
        "nok": str(sum((nok(year, se, m) for se, m in sorted(by_sector.items())), Decimal(0)).quantize(ORE)),
    }


def summary_view(rows: Iterable[tuple[str, int, int]]) -> dict:
    """The view of totals rows (replay, tests): the view of their sums."""
    return summary_view_of_sums(view_sums(rows))


def summary_view_of_sums(sums: ViewSums) -> dict:
    """Micro-points are summed as integers per scope, period, system and sector; NOK is priced once per sector of
    each sum. NOK is linear and exact in Decimal, so that is what pricing every code on its own pays."""
    points, counts = sums
    reg = hospitals()
    years: dict = {}

    def year_doc(year: str) -> dict:
        return years.setdefault(year, {"hf": {}, "rhf": {}, "rhf_sorge_for": {}, "national": {}, "counts": {}})

    for field, cnt in counts.items():
        year, hf, system, code = field.split("|")
        c = year_doc(year)["counts"].setdefault(hf, {}).setdefault(system, {})
        c[code] = c.get(code, 0) + cnt
    tertials: dict[tuple[str, str, str, str, str, str], int] = {}  # the fields summed per tertial
    for field, pts in points.items():
        year, hf, sector, system, residence, period = field.split("|")
        key = (year, hf, sector, system, residence, tertial_of_label(period))
        tertials[key] = tertials.get(key, 0) + pts
    for (year, hf, sector, system, residence, tertial), pts in tertials.items():
        y = year_doc(year)
        stat = PointStat("P", int(year), hf, sector, system, "", residence)
        part = (system, sector)
        for label in (tertial, year):
            for scope, name in (("hf", hf), *rhf_scopes(stat), ("national", "all")):
                entry = y[scope].setdefault(name, {}).setdefault(label, {})  # (system, sector) -> micro-points
                entry[part] = entry.get(part, 0) + pts
    out: dict = {}
    for year, y in sorted(years.items()):

        def fmt(periods: dict, year: int = int(year)) -> dict:
            return {p: _period_view(year, e) for p, e in sorted(periods.items())}

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
