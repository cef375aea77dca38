"""Settlement statements from settled totals: ISF points and NOK per HF and RHF, RBF achievement and income.

- provisional (foreløpig): first-tertial activity and first-tertial indicators;
- final (endelig): the whole year;
- difference (avregning): final minus provisional, per HF, RHF and RBF line.
Indicator 9 comes from the stream (discharge summaries within a day) unless an external NKI value
is given for the HF and year, which then takes precedence. Money is Decimal throughout, rounded to
øre only when a sum is shown.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Iterable, Literal

from ..periods.calendar import tertial_of_label
from ..periods.indicators import POPULATION_OF
from ..registry import RHFS, hospitals
from ..rules import rule_year
from .money import MICRO, ORE
from .rbf import distribute

Kind = Literal["provisional", "final"]
KINDS = ("provisional", "final", "difference")
SYSTEMS = ("DRG", "STG", "TFG")
INDICATORS = tuple(str(i) for i in range(1, 10))
Nki = dict[str, tuple[int, int]]  # hf -> (numerator, denominator) for indicator 9


class StatementError(ValueError):
    pass


def _periods(year: int, kind: Kind) -> tuple[set[str], str]:
    """Point periods (tertials) and the indicator period a statement covers."""
    if kind == "provisional":
        return {f"{year}-T1"}, f"{year}-T1"
    if kind == "final":
        return {f"{year}-T{t}" for t in (1, 2, 3)}, str(year)
    raise StatementError(f"unknown statement kind {kind!r}: expected provisional or final")


def indicator_figures(rows: Iterable[tuple[str, int, int]], year: int, period: str,
                      nki: Nki | None = None) -> dict[str, dict[str, tuple[int, int]]]:
    """Numerator and denominator per HF and indicator for one period; NKI values replace indicator 9."""
    raw: dict[str, dict[str, int]] = {}
    for key, _pts, cnt in rows:
        f = key.split("|")
        if f[0] != "I" or f[1] != str(year) or f[-1] != period:
            continue
        raw.setdefault(f[2], {})["|".join(f[3:-1])] = cnt
    out: dict[str, dict[str, tuple[int, int]]] = {}
    for hf, stats in raw.items():
        figs = {}
        for ind in INDICATORS:
            if ind in POPULATION_OF:
                num, den = stats.get(f"{ind}|num", 0), stats.get(f"patients|{POPULATION_OF[ind]}", 0)
            else:
                num, den = stats.get(f"{ind}|num", 0), stats.get(f"{ind}|den", 0)
            if den:
                figs[ind] = (num, den)
        out[hf] = figs
    for hf, (num, den) in (nki or {}).items():
        if den <= 0 or num < 0 or num > den:
            raise StatementError(f"NKI value for {hf}: need 0 <= numerator <= denominator, denominator > 0")
        out.setdefault(hf, {})["9"] = (num, den)
    return out


def achievements(figures: dict[str, dict[str, tuple[int, int]]]) -> dict[str, dict[str, Decimal]]:
    """Per RHF: sum of its HFs' numerators over the sum of their denominators, in percent."""
    reg = hospitals()
    sums: dict[str, dict[str, list[int]]] = {}
    for hf, figs in figures.items():
        for ind, (num, den) in figs.items():
            s = sums.setdefault(reg[hf].rhf, {}).setdefault(ind, [0, 0])
            s[0] += num
            s[1] += den
    return {rhf: {ind: Decimal(100) * n / d for ind, (n, d) in sorted(inds.items()) if d}
            for rhf, inds in sorted(sums.items())}


def statement(rows: Iterable[tuple[str, int, int]], year: int, kind: Kind, nki: Nki | None = None) -> dict:
    rows = list(rows)
    ry = rule_year(year)
    reg = hospitals()
    periods, ind_period = _periods(year, kind)
    micro: dict[str, dict[tuple[str, str], int]] = {}
    for key, pts, _cnt in rows:
        f = key.split("|")
        if f[0] == "P" and f[1] == str(year) and tertial_of_label(f[-1]) in periods:
            hf, sector, system = f[2], f[3], f[4]
            acc = micro.setdefault(hf, {})
            acc[(system, sector)] = acc.get((system, sector), 0) + pts
    hf_out: dict[str, dict] = {}
    rhf_nok: dict[str, Decimal] = {}
    rhf_points: dict[str, dict[str, int]] = {}
    for hf in sorted(micro):
        by = micro[hf]
        nok = sum((Decimal(v) / MICRO * ry.sectors[sector].unit_price_nok * ry.sectors[sector].isf_share
                   for (_system, sector), v in by.items()), Decimal(0))
        points: dict[str, int] = {}
        for (system, sector), v in by.items():
            points[f"{system}|{sector}"] = points.get(f"{system}|{sector}", 0) + v
        rhf = reg[hf].rhf
        hf_out[hf] = {"rhf": rhf, "points": {k: str(Decimal(v) / MICRO) for k, v in sorted(points.items())},
                      "points_total": str(Decimal(sum(points.values())) / MICRO), "nok": str(nok.quantize(ORE))}
        rhf_nok[rhf] = rhf_nok.get(rhf, Decimal(0)) + nok
        rp = rhf_points.setdefault(rhf, {})
        for k, v in points.items():
            rp[k] = rp.get(k, 0) + v
    rhf_out = {r: {"points": {k: str(Decimal(v) / MICRO) for k, v in sorted(rhf_points[r].items())},
                   "points_total": str(Decimal(sum(rhf_points[r].values())) / MICRO), "nok": str(rhf_nok[r].quantize(ORE))}
               for r in sorted(rhf_nok)}
    figures = indicator_figures(rows, year, ind_period, nki)
    ach = achievements(figures)
    rbf = distribute(year, {r: ach.get(r, {}) for r in RHFS}) if ach else None
    return {"year": year, "kind": kind, "periods": sorted(periods), "indicator_period": ind_period,
            "nki_hfs": sorted(nki or {}), "hf": hf_out, "rhf": rhf_out,
            "indicators": {hf: {i: {"numerator": n, "denominator": d} for i, (n, d) in figs.items()}
                           for hf, figs in sorted(figures.items())},
            "rbf": None if rbf is None else {
                "achievements": {r: {i: str(v.quantize(Decimal("0.01"))) for i, v in inds.items()} for r, inds in ach.items()},
                "targets": {i: str(t) for i, t in ry.rbf.targets.items()},
                **rbf}}


def difference(final: dict, provisional: dict) -> dict:
    """Final minus provisional, per HF, RHF and RBF income: what the settlement moves (avregning)."""
    if final["year"] != provisional["year"]:
        raise StatementError("a difference needs two statements of the same year")

    def diff(a: dict, b: dict, *fields: str) -> dict:
        """Per key of either side, each field's final minus provisional (a missing side counts 0)."""
        return {k: {f: str(Decimal(str(a.get(k, {}).get(f, "0"))) - Decimal(str(b.get(k, {}).get(f, "0"))))
                    for f in fields} for k in sorted(set(a) | set(b))}
    rbf = {}
    if final.get("rbf") and provisional.get("rbf"):
        rbf = {r: v["nok"] for r, v in diff(final["rbf"]["rhf"], provisional["rbf"]["rhf"], "nok").items()}
    return {"year": final["year"], "kind": "difference",
            "hf": diff(final["hf"], provisional["hf"], "nok", "points_total"),
            "rhf": diff(final["rhf"], provisional["rhf"], "nok"),
            "rbf_nok": rbf}


def table(doc: dict) -> list[list[str]]:
    """A statement as rows for CSV and Excel: one row per HF, then one per RHF, then the RBF lines."""
    out = [["level", "name", "rhf", "nok", "points_total", *[f"points {s}|{sec}" for s in SYSTEMS
                                                               for sec in ("somatic", "phv", "tsb")]]]
    for level in ("hf", "rhf"):
        for name, v in doc[level].items():
            pts = v.get("points", {})
            out.append([level.upper(), name, v.get("rhf", name if level == "rhf" else ""), v["nok"],
                        v.get("points_total", ""), *[pts.get(f"{s}|{sec}", "") for s in SYSTEMS
                                                     for sec in ("somatic", "phv", "tsb")]])
    if doc.get("rbf"):
        out.append([])
        out.append(["RBF", "rhf", "", "nok", "normalised_points", *[f"achievement {i} %" for i in INDICATORS]])
        for r, v in doc["rbf"]["rhf"].items():
            ach = doc["rbf"]["achievements"].get(r, {})
            out.append(["RBF", r, r, str(v["nok"]), str(v["normalised_points"]), *[ach.get(i, "") for i in INDICATORS]])
    if doc.get("rbf_nok"):
        out.append([])
        out += [["RBF", r, r, v] for r, v in doc["rbf_nok"].items()]
    return out
