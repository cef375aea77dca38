"""Settlement statements from settled totals: ISF points and NOK per HF and RHF for an activity year, and the RBF
that year's data decides.

A statement of year Y (one document, two money streams, each labelled with its years):
- ISF: the activity of Y itself. Provisional (foreløpig): its first tertial; final (endelig): the whole year.
- RBF: budget year Y+1, computed from NPR data of Y (provisional: Y-T1; final: Y) and NKI values of Y-1, the same in
  both (seed 002 sec. 1.2, 4.1.2; `rbf.data_years`). RBF Y+1 is paid in Y+1, but it is decided by Y's data, so it
  sits with Y's statement, and its section says `budget_year`, `npr_data`, `nki_year` and `params_year` (the rule
  year whose RBF parameters are used: the budget year's own, or the latest earlier one while it has none).
- difference (avregning): final minus provisional, per HF, RHF and RBF line.
Indicator 9 per HF: an external NKI value for the NKI year where one is given, else the stream's own count of
discharge summaries over the NKI year (when the stream settled that year), else none (its points fall out).
Money is Decimal throughout, rounded to øre only when a sum is shown.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable, Literal

from ..periods.calendar import tertial_of_label
from ..registry import RHFS, hospitals
from ..rules import YEARS, rule_year
from ..stats import indicator_totals, point_totals
from .money import MICRO, ORE, rhf_scopes
from .rbf import DataYears, data_years, distribute, params_for

Kind = Literal["provisional", "final"]
KINDS = ("provisional", "final", "difference")
SYSTEMS = ("DRG", "STG", "TFG", "SUPP")  # SUPP: point supplements (params.json `supplements`)
INDICATORS = tuple(str(i) for i in range(1, 10))
Nki = dict[str, tuple[int, int]]  # hf -> (numerator, denominator) for indicator 9, of one NKI year


class StatementError(ValueError):
    pass


def _periods(year: int, kind: Kind) -> set[str]:
    """The tertials of ISF activity a statement covers."""
    if kind == "provisional":
        return {f"{year}-T1"}
    if kind == "final":
        return {f"{year}-T{t}" for t in (1, 2, 3)}
    raise StatementError(f"unknown statement kind {kind!r}: expected provisional or final")


def indicator_figures(
    rows: Iterable[tuple[str, int, int]], year: int, period: str, nki: Nki | None = None
) -> dict[str, dict[str, tuple[int, int]]]:
    """The stream's numerator and denominator per HF and indicator for one period; NKI values replace indicator 9."""
    raw: dict[str, dict[str, int]] = {}
    for st, p, cnt in indicator_totals(rows):
        if st.year == year and p == period:
            raw.setdefault(st.hf, {})[st.name] = cnt
    # indicators 2-8 need the counting rules of their year; indicator 9 alone is read for a year without them
    denominators = {i.id: i.denominator for i in rule_year(year).indicators} if year in YEARS else {}
    out: dict[str, dict[str, tuple[int, int]]] = {}
    for hf, stats in raw.items():
        figs = {}
        for ind in INDICATORS:
            num, den = stats.get(f"{ind}|num", 0), stats.get(denominators.get(ind, f"{ind}|den"), 0)
            if den:
                figs[ind] = (num, den)
        out[hf] = figs
    for hf, (num, den) in (nki or {}).items():
        if den <= 0 or num < 0 or num > den:
            raise StatementError(f"NKI value for {hf}: need 0 <= numerator <= denominator, denominator > 0")
        out.setdefault(hf, {})["9"] = (num, den)
    return out


def rbf_figures(
    rows: Iterable[tuple[str, int, int]], years: DataYears, nki: Nki | None = None
) -> dict[str, dict[str, tuple[int, int]]]:
    """Per HF: indicators 1-8 from the NPR data period, indicator 9 from the NKI year (`nki`: its external values)."""
    rows = list(rows)
    npr = indicator_figures(rows, years.npr_year, years.npr_period)
    nki_figs = indicator_figures(rows, years.nki_year, str(years.nki_year), nki)
    out: dict[str, dict[str, tuple[int, int]]] = {}
    for hf in sorted(set(npr) | set(nki_figs)):
        figs = {i: v for i, v in npr.get(hf, {}).items() if i != "9"}
        if "9" in nki_figs.get(hf, {}):
            figs["9"] = nki_figs[hf]["9"]
        if figs:
            out[hf] = figs
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
    return {
        rhf: {ind: Decimal(100) * n / d for ind, (n, d) in sorted(inds.items()) if d}
        for rhf, inds in sorted(sums.items())
    }


def rbf_section(figures: dict[str, dict[str, tuple[int, int]]], years: DataYears) -> dict:
    """RBF of a budget year from its figures, labelled with the data it comes from."""
    ach = achievements(figures)
    params = params_for(years.budget_year)[1]
    return {
        **distribute(years.budget_year, {r: ach.get(r, {}) for r in RHFS} if ach else {}),
        "npr_data": years.npr_period,
        "nki_year": years.nki_year,
        "achievements": {r: {i: str(v.quantize(Decimal("0.01"))) for i, v in inds.items()} for r, inds in ach.items()},
        "targets": {i: str(t) for i, t in params.targets.items()},
        "steps": {i: [[str(t), m] for t, m in s] for i, s in params.steps.items()},
    }


def statement(rows: Iterable[tuple[str, int, int]], year: int, kind: Kind, nki: dict[int, Nki] | None = None) -> dict:
    """ISF of activity year `year` and RBF of budget year `year + 1`; `nki`: external NKI values by NKI year."""
    rows = list(rows)
    ry = rule_year(year)
    reg = hospitals()
    periods = _periods(year, kind)
    micro: dict[str, dict[tuple[str, str], int]] = {}  # hf -> (system, sector) -> micro-points
    regions: dict[str, dict[str, dict[str, int]]] = {"rhf": {}, "rhf_sorge_for": {}}  # scope -> rhf -> "system|sector"
    region_nok: dict[str, dict[str, Decimal]] = {"rhf": {}, "rhf_sorge_for": {}}

    def money(sector: str, v: int) -> Decimal:
        return Decimal(v) / MICRO * ry.sectors[sector].unit_price_nok * ry.sectors[sector].isf_share

    for st, period, pts, _cnt in point_totals(rows):
        if st.year != year or tertial_of_label(period) not in periods:
            continue
        acc = micro.setdefault(st.hf, {})
        acc[(st.system, st.sector)] = acc.get((st.system, st.sector), 0) + pts
        for scope, rhf in rhf_scopes(st):
            rp = regions[scope].setdefault(rhf, {})
            rp[f"{st.system}|{st.sector}"] = rp.get(f"{st.system}|{st.sector}", 0) + pts
            region_nok[scope][rhf] = region_nok[scope].get(rhf, Decimal(0)) + money(st.sector, pts)
    hf_out: dict[str, dict] = {}
    for hf in sorted(micro):
        by = micro[hf]
        nok = sum((money(sector, v) for (_system, sector), v in by.items()), Decimal(0))
        points: dict[str, int] = {}
        for (system, sector), v in by.items():
            points[f"{system}|{sector}"] = points.get(f"{system}|{sector}", 0) + v
        hf_out[hf] = {
            "rhf": reg[hf].rhf,
            "points": {k: str(Decimal(v) / MICRO) for k, v in sorted(points.items())},
            "points_total": str(Decimal(sum(points.values())) / MICRO),
            "nok": str(nok.quantize(ORE)),
        }
    region_out = {
        scope: {
            r: {
                "points": {k: str(Decimal(v) / MICRO) for k, v in sorted(pts_of[r].items())},
                "points_total": str(Decimal(sum(pts_of[r].values())) / MICRO),
                "nok": str(region_nok[scope][r].quantize(ORE)),
            }
            for r in sorted(pts_of)
        }
        for scope, pts_of in regions.items()
    }
    years = data_years(year + 1, kind)
    nki_given = (nki or {}).get(years.nki_year)
    figures = rbf_figures(rows, years, nki_given)
    return {
        "year": year,
        "kind": kind,
        "periods": sorted(periods),
        "nki_hfs": sorted(nki_given or {}),
        "hf": hf_out,
        "rhf": region_out["rhf"],
        "rhf_sorge_for": region_out["rhf_sorge_for"],
        "indicators": {
            hf: {i: {"numerator": n, "denominator": d} for i, (n, d) in figs.items()}
            for hf, figs in sorted(figures.items())
        },
        "rbf": rbf_section(figures, years),
    }


def difference(final: dict, provisional: dict) -> dict:
    """Final minus provisional, per HF, RHF and RBF income: what the settlement moves (avregning)."""
    if final["year"] != provisional["year"]:
        raise StatementError("a difference needs two statements of the same year")

    def diff(a: dict, b: dict, *fields: str) -> dict:
        """Per key of either side, each field's final minus provisional (a missing side counts 0)."""
        return {
            k: {f: str(Decimal(str(a.get(k, {}).get(f, "0"))) - Decimal(str(b.get(k, {}).get(f, "0")))) for f in fields}
            for k in sorted(set(a) | set(b))
        }

    rbf = {r: v["nok"] for r, v in diff(final["rbf"]["rhf"], provisional["rbf"]["rhf"], "nok").items()}
    return {
        "year": final["year"],
        "kind": "difference",
        "rbf_budget_year": final["rbf"]["budget_year"],
        "hf": diff(final["hf"], provisional["hf"], "nok", "points_total"),
        "rhf": diff(final["rhf"], provisional["rhf"], "nok"),
        "rhf_sorge_for": diff(final.get("rhf_sorge_for", {}), provisional.get("rhf_sorge_for", {}), "nok"),
        "rbf_nok": rbf,
    }


def table(doc: dict) -> list[list[str]]:
    """A statement as rows for CSV and Excel: one row per HF, one per RHF by owner (`RHF`), one per RHF by
    residence (`RHF_SORGE_FOR`), then the RBF lines."""
    out = [
        [
            "level",
            "name",
            "rhf",
            "nok",
            "points_total",
            *[f"points {s}|{sec}" for s in SYSTEMS for sec in ("somatic", "phv", "tsb")],
        ]
    ]
    for level in ("hf", "rhf", "rhf_sorge_for"):
        for name, v in doc.get(level, {}).items():
            pts = v.get("points", {})
            out.append(
                [
                    level.upper(),
                    name,
                    v.get("rhf", name if level != "hf" else ""),
                    v["nok"],
                    v.get("points_total", ""),
                    *[pts.get(f"{s}|{sec}", "") for s in SYSTEMS for sec in ("somatic", "phv", "tsb")],
                ]
            )
    if doc.get("rbf"):
        rb = doc["rbf"]
        out.append([])
        out.append(
            [
                "RBF budget year",
                str(rb["budget_year"]),
                "NPR data",
                rb["npr_data"],
                "NKI year",
                str(rb["nki_year"]),
                "parameters of",
                str(rb["params_year"]),
            ]
        )
        out.append(["RBF", "rhf", "", "nok", "normalised_points", *[f"achievement {i} %" for i in INDICATORS]])
        for r, v in doc["rbf"]["rhf"].items():
            ach = doc["rbf"]["achievements"].get(r, {})
            out.append(["RBF", r, r, str(v["nok"]), str(v["normalised_points"]), *[ach.get(i, "") for i in INDICATORS]])
    if doc.get("rbf_nok"):
        out.append([])
        out.append(["RBF budget year", str(doc["rbf_budget_year"]), "final minus provisional"])
        out += [["RBF", r, r, v] for r, v in doc["rbf_nok"].items()]
    return out
