"""ISF money and the summary views, from settled totals (`stat|period` -> micro-points, count).

NOK = points x unit price x ISF share of the rule year and sector, in Decimal, rounded to
øre only at the end of each sum.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Iterable

from ..registry import hospitals
from ..rules import rule_year

MICRO = Decimal(1_000_000)
ORE = Decimal("0.01")


def _parse(key: str) -> list[str]:
    return key.split("|")


def points_rows(rows: Iterable[tuple[str, int, int]]):
    """(year, hf, sector, system, code, period, micro_points, count) for earned points."""
    for key, pts, cnt in rows:
        f = _parse(key)
        if f[0] == "P":
            yield int(f[1]), f[2], f[3], f[4], f[5], f[6], pts, cnt


def nok(year: int, sector: str, micro_points: int) -> Decimal:
    s = rule_year(year).sectors[sector]
    return Decimal(micro_points) / MICRO * s.unit_price_nok * s.isf_share


def summary(rows: Iterable[tuple[str, int, int]]) -> dict:
    """Points per HF and RHF by system, patient-period counts, NOK per HF and RHF (per rule year)."""
    rows = list(rows)
    reg = hospitals()
    out: dict = {"points": {}, "nok": {}, "counts": {}, "indicators": {}}
    nok_acc: dict[tuple[str, str, str], Decimal] = {}
    for year, hf, sector, system, code, period, pts, cnt in points_rows(rows):
        rhf = reg[hf].rhf
        for scope, name in (("hf", hf), ("rhf", rhf)):
            d = out["points"].setdefault(str(year), {}).setdefault(scope, {}).setdefault(name, {})
            d[system] = d.get(system, 0) + pts
            key = (str(year), scope, name)
            nok_acc[key] = nok_acc.get(key, Decimal(0)) + nok(year, sector, pts)
        c = out["counts"].setdefault(str(year), {}).setdefault(system, {})
        c[code] = c.get(code, 0) + cnt
    for (year, scope, name), v in nok_acc.items():
        out["nok"].setdefault(year, {}).setdefault(scope, {})[name] = str(v.quantize(ORE))
    for year in out["points"]:
        for scope in out["points"][year].values():
            for name, by_system in scope.items():
                scope[name] = {k: str(Decimal(v) / MICRO) for k, v in sorted(by_system.items())}
    for key, _pts, cnt in rows:
        f = _parse(key)
        if f[0] == "I":
            d = out["indicators"].setdefault(f[1], {}).setdefault(f[2], {}).setdefault(f[-1], {})
            name = "|".join(f[3:-1])
            d[name] = d.get(name, 0) + cnt
    return out


def points_by_hf(rows: Iterable[tuple[str, int, int]]) -> dict[str, int]:
    """Micro-points per rule year and HF: the figure streaming and replay must agree on exactly."""
    acc: dict[str, int] = {}
    for year, hf, _s, _sys, _c, _p, pts, _n in points_rows(rows):
        acc[f"{year}|{hf}"] = acc.get(f"{year}|{hf}", 0) + pts
    return dict(sorted(acc.items()))
