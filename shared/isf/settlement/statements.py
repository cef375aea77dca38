"""Settlement statements from settled totals: ISF points and NOK per HF and RHF for an activity year, and the RBF
that year's data decides.

The statements of year Y (each one document, two money streams, each labelled with its years and its schedule):
- ISF of the activity of Y, cumulative: `t1` after the first tertial, `t2` after the second, `final` the whole year,
  each with its `change` from the one before (for `t1`, from nothing). The seeds give no ISF payment schedule: this
  one is the project's own, and `schedule.isf` says so.
- RBF: budget year Y+1, computed from NPR data of Y (provisional: Y-T1; final: Y) and NKI values of Y-1, the same in
  both (seed 002 sec. 1.2, 4.1.2; `rbf.data_years`), the seeds' schedule. The provisional one goes with `t1` and
  stands in `t2`; the final one goes with `final`, with each RHF's change from the provisional, in NOK and percent
  (seed 001, "Endring fra foreløpig til endelig", "% endring"). Every RBF line shows the RHF's share of the
  budget by the base grant's key and its income's difference to it (seed 000, "Differanse mot basisbevilgning").
  RBF Y+1 is paid in Y+1, but it is decided by Y's data, so it sits with Y's statements; its section says
  `budget_year`, `npr_data`, `nki_year` and `params_year` (the rule year whose RBF parameters are used: the budget
  year's own, or the latest earlier one while it has none).
- difference (avregning): final minus the statement after the first tertial (the provisional one, as paid), per
  HF, RHF and RBF line.
A statement frozen when it was paid stands for its kind, so the next one's change is measured from what was paid.
`Settled` is what every statement is computed from (totals rows, NKI values, frozen copies): the settlement service and
`isf statement` read it (from Redis, or a replay) and compute through it, and `to_freeze` is the one freeze rule.
A statement reads only the earned points per (year, HF, sector, system, residence, period) and the indicator counts:
the view's point sums and the indicator sums the settlement script keeps, so on Redis its rows are those of the
kept sums (`rows_of_sums`), a few thousand however many totals a year holds. A system|sector whose points sum to
zero is not shown, nor an HF or RHF with no points (a total that came and went is the same as none).
Indicator 9 per HF: an external NKI value for the NKI year where one is given, else the stream's own count of
discharge summaries over the NKI year (when the stream settled that year), else none (its points fall out).
Money is Decimal throughout, rounded to øre only when a sum is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Iterable

from ..events import NkiV1
from ..periods.calendar import tertial_of_label
from ..registry import RHFS, hospitals
from ..rules import YEARS, rule_year
from ..stats import PointStat, indicator_totals, point_totals, year_of
from .money import MICRO, ORE, rhf_scopes
from .rbf import DataYears, base_grants, data_years, distribute, params_for
from .views import view_sums

ISF_KINDS = ("t1", "t2", "final")
FREEZABLE = ("t1", "t2")  # the statements paid before the final one: frozen when paid
KINDS = (*ISF_KINDS, "difference")
ALIASES = {"provisional": "t1"}  # the statement after tertial 1 is the one the provisional RBF goes with
LABELS = {"t1": "after tertial 1", "t2": "after tertial 2", "final": "final"}
PREVIOUS = {"t1": None, "t2": "t1", "final": "t2"}
RBF_KIND = {"t1": "provisional", "t2": "provisional", "final": "final"}
SCHEDULE = {
    "isf": "ours (the seeds give no ISF payment schedule): after tertial 1, after tertial 2 and final, cumulative, "
    "each with its change from the one before",
    "rbf": "the seeds' (seed 002 sec. 1.2, 4.1.2): provisional from NPR data of the first tertial, final from the "
    "whole year; the provisional stands until the final",
}
SYSTEMS = ("DRG", "STG", "TFG", "SUPP")  # SUPP: point supplements (params.json `supplements`)
INDICATORS = tuple(str(i) for i in range(1, 10))
Nki = dict[str, tuple[int, int]]  # hf -> (numerator, denominator) for indicator 9, of one NKI year
PCT = Decimal("0.01")


class StatementError(ValueError):
    pass


def kind_of(name: str) -> str:
    """A statement kind by its name (`provisional` is the statement after tertial 1)."""
    kind = ALIASES.get(name, name)
    if kind not in KINDS:
        raise StatementError(f"unknown statement kind {name!r}: expected one of {', '.join((*KINDS, *ALIASES))}")
    return kind


def _periods(year: int, kind: str) -> set[str]:
    """The tertials of ISF activity a statement covers: from the first up to its own."""
    return {f"{year}-T{t}" for t in range(1, ISF_KINDS.index(kind) + 2)}


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


def rbf_section(figures: dict[str, dict[str, tuple[int, int]]], years: DataYears, kind: str) -> dict:
    """RBF of a budget year from its figures, labelled with the data it comes from; each RHF's line with its share by
    the base grant's key and the difference to it."""
    ach = achievements(figures)
    params = params_for(years.budget_year)[1]
    dist = distribute(years.budget_year, {r: ach.get(r, {}) for r in RHFS} if ach else {})
    base = base_grants(Decimal(dist["budget_nok"]), params.key)
    for r, line in dist["rhf"].items():
        line["base_grant_nok"] = str(base[r])
        line["difference_to_base_grant_nok"] = str(Decimal(line["nok"]) - base[r])
    return {
        **dist,
        "kind": kind,
        "npr_data": years.npr_period,
        "nki_year": years.nki_year,
        "achievements": {r: {i: str(v.quantize(PCT)) for i, v in inds.items()} for r, inds in ach.items()},
        "targets": {i: str(t) for i, t in params.targets.items()},
        "steps": {i: [[str(t), m] for t, m in s] for i, s in params.steps.items()},
    }


def _from_provisional(final: dict, provisional: dict) -> dict:
    """The final RBF with each RHF's provisional income, and the change from it in NOK and percent (seed 001)."""
    lines = {}
    for r, line in final["rhf"].items():
        f, p = Decimal(line["nok"]), Decimal(provisional.get("rhf", {}).get(r, {}).get("nok", "0"))
        lines[r] = {
            **line,
            "provisional_nok": str(p),
            "change_from_provisional_nok": str(f - p),
            "change_from_provisional_pct": str(((f - p) / p * 100).quantize(PCT)) if p else None,
        }
    return {**final, "rhf": lines}


def _diff(a: dict, b: dict, *fields: str) -> dict:
    """Per key of either side, each field's `a` minus `b` (a missing side counts 0)."""
    return {
        k: {f: str(Decimal(str(a.get(k, {}).get(f, "0"))) - Decimal(str(b.get(k, {}).get(f, "0")))) for f in fields}
        for k in sorted(set(a) | set(b))
    }


def _change(doc: dict, previous: dict | None) -> dict:
    """A statement's change from the one before (from nothing for the first), per HF and RHF: NOK and points."""
    previous = previous or {}
    return {
        level: _diff(doc.get(level, {}), previous.get(level, {}), "nok", "points_total")
        for level in ("hf", "rhf", "rhf_sorge_for")
    }


def statements(
    rows: Iterable[tuple[str, int, int]],
    year: int,
    nki: dict[int, Nki] | None = None,
    paid: dict[str, dict] | None = None,
) -> dict[str, dict]:
    """The statements of activity year `year` by kind: after tertial 1 and 2 and final, each with its change from the
    one before, and the difference. `nki`: external NKI values by NKI year; `paid`: statements frozen when paid, by
    kind, which stand for their kind."""
    rows = list(rows)
    paid = paid or {}
    out: dict[str, dict] = {}
    for kind in ISF_KINDS:
        if kind in paid:
            out[kind] = paid[kind]
            continue
        doc = _isf(rows, year, kind)
        if kind == "t2":  # the provisional RBF stands until the final, as the statement after tertial 1 gave it
            doc.update({k: out["t1"][k] for k in ("nki_hfs", "indicators", "rbf")})
        else:
            doc.update(_rbf(rows, year, RBF_KIND[kind], nki))
        if kind == "final":
            doc["rbf"] = _from_provisional(doc["rbf"], out["t1"]["rbf"])
        before = PREVIOUS[kind]
        out[kind] = {**doc, "change": _change(doc, out[before] if before else None)}
    out["difference"] = difference(out["final"], out["t1"])
    return out


def statement(rows: Iterable[tuple[str, int, int]], year: int, kind: str, nki: dict[int, Nki] | None = None) -> dict:
    """One statement of activity year `year` (see `statements`)."""
    return statements(rows, year, nki)[kind_of(kind)]


@dataclass(frozen=True)
class Settled:
    """What statements are computed from: the settled totals rows, external NKI values by NKI year, and the
    statements frozen when paid, by activity year and kind."""

    rows: list[tuple[str, int, int]]
    nki: dict[int, Nki] = field(default_factory=dict)
    paid: dict[int, dict[str, dict]] = field(default_factory=dict)

    def statements(self, year: int) -> dict[str, dict]:
        """The statements of activity year `year` by kind (`statements`), the frozen ones standing for theirs."""
        return statements(self.rows, year, self.nki, self.paid.get(year))

    def with_nki(self, values: Iterable[NkiV1]) -> "Settled":
        """These NKI values added, each replacing any of its year and HF."""
        nki = {y: dict(v) for y, v in self.nki.items()}
        for v in values:
            nki.setdefault(v.year, {})[v.hf] = (v.numerator, v.denominator)
        return replace(self, nki=nki)


def statement_years(rows: Iterable[tuple[str, int, int]]) -> list[int]:
    """The activity years with earned points or indicator counts: those that have statements."""
    rows = list(rows)
    return sorted({int(f.split("|", 1)[0]) for f in view_sums(rows)[0]} | {year_of(k) for k in indicator_sums(rows)})


def indicator_sums(rows: Iterable[tuple[str, int, int]]) -> dict[str, int]:
    """The indicator counts of totals rows by `stat|period`, zeros left out: what the settlement script keeps of
    them beside the totals."""
    return {k: c for k, _p, c in rows if k[0] == "I" and c}


def rows_of_sums(points: dict[str, int], indicators: dict[str, int]) -> list[tuple[str, int, int]]:
    """Totals rows whose statements are those of the totals the sums were kept of: a point row per view point sum
    (`isf.settlement.views`: micro-points per `year|hf|sector|system|residence|period`, its code left empty) and a
    row per indicator sum."""
    rows = []
    for f, pts in points.items():
        year, hf, sector, system, residence, period = f.split("|")
        rows.append((f"{PointStat('P', int(year), hf, sector, system, '', residence)}|{period}", pts, 0))
    return rows + [(k, 0, c) for k, c in indicators.items()]


def every_statement(settled: Settled) -> dict[str, dict]:
    """Every statement of every activity year with settled totals (its ISF, and the RBF of the next budget year),
    keyed `<year>|<kind>`."""
    return {f"{y}|{kind}": doc for y in statement_years(settled.rows) for kind, doc in settled.statements(y).items()}


def to_freeze(settled: Settled, year: int, kind: str, at: str) -> dict:
    """The statement of `year` after tertial 1 or 2 as it stands now, stamped `frozen_at` = `at`, to keep as the one
    paid; refuses the other kinds and a statement frozen already."""
    if kind not in FREEZABLE:
        raise StatementError(
            f"only the statements after tertial 1 and 2 are frozen ({', '.join(FREEZABLE)}), not {kind}"
        )
    paid = settled.paid.get(year, {})
    if kind in paid:
        raise StatementError(f"the {kind} statement for {year} was frozen already (at {paid[kind]['frozen_at']})")
    return {**settled.statements(year)[kind], "frozen_at": at}


def _isf(rows: list[tuple[str, int, int]], year: int, kind: str) -> dict:
    """ISF of activity year `year` up to the statement's tertial."""
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
        points = {f"{system}|{sector}": v for (system, sector), v in by.items() if v}
        if not points:
            continue
        nok = sum((money(sector, v) for (_system, sector), v in by.items()), Decimal(0))
        hf_out[hf] = {
            "rhf": reg[hf].rhf,
            "points": {k: str(Decimal(v) / MICRO) for k, v in sorted(points.items())},
            "points_total": str(Decimal(sum(points.values())) / MICRO),
            "nok": str(nok.quantize(ORE)),
        }
    region_out = {
        scope: {
            r: {
                "points": {k: str(Decimal(v) / MICRO) for k, v in sorted(pts_of[r].items()) if v},
                "points_total": str(Decimal(sum(pts_of[r].values())) / MICRO),
                "nok": str(region_nok[scope][r].quantize(ORE)),
            }
            for r in sorted(pts_of)
            if any(pts_of[r].values())
        }
        for scope, pts_of in regions.items()
    }
    return {
        "year": year,
        "kind": kind,
        "label": LABELS[kind],
        "previous": PREVIOUS[kind],
        "schedule": SCHEDULE,
        "periods": sorted(periods),
        "hf": hf_out,
        "rhf": region_out["rhf"],
        "rhf_sorge_for": region_out["rhf_sorge_for"],
    }


def _rbf(rows: list[tuple[str, int, int]], year: int, kind: str, nki: dict[int, Nki] | None) -> dict:
    """The provisional or final RBF of budget year `year + 1`, with the indicator figures it comes from."""
    years = data_years(year + 1, kind)
    nki_given = (nki or {}).get(years.nki_year)
    figures = rbf_figures(rows, years, nki_given)
    return {
        "nki_hfs": sorted(nki_given or {}),
        "indicators": {
            hf: {i: {"numerator": n, "denominator": d} for i, (n, d) in figs.items()}
            for hf, figs in sorted(figures.items())
        },
        "rbf": rbf_section(figures, years, kind),
    }


def difference(final: dict, provisional: dict) -> dict:
    """Final minus the statement after tertial 1 (the provisional one), per HF, RHF and RBF income: what the
    settlement moves (avregning)."""
    if final["year"] != provisional["year"]:
        raise StatementError("a difference needs two statements of the same year")
    rbf = {r: v["nok"] for r, v in _diff(final["rbf"]["rhf"], provisional["rbf"]["rhf"], "nok").items()}
    return {
        "year": final["year"],
        "kind": "difference",
        "rbf_budget_year": final["rbf"]["budget_year"],
        "hf": _diff(final["hf"], provisional["hf"], "nok", "points_total"),
        "rhf": _diff(final["rhf"], provisional["rhf"], "nok"),
        "rhf_sorge_for": _diff(final.get("rhf_sorge_for", {}), provisional.get("rhf_sorge_for", {}), "nok"),
        "rbf_nok": rbf,
    }


RBF_COLUMNS = (
    "nok",
    "normalised_points",
    "base_grant_nok",
    "difference_to_base_grant_nok",
    "provisional_nok",
    "change_from_provisional_nok",
    "change_from_provisional_pct",
)


def table(doc: dict) -> list[list[str]]:
    """A statement as rows for CSV and Excel: one row per HF, one per RHF by owner (`RHF`), one per RHF by
    residence (`RHF_SORGE_FOR`), each with its change from the statement before; then the RBF lines."""
    change = doc.get("change") or {}
    out = [
        [
            "level",
            "name",
            "rhf",
            "nok",
            "points_total",
            *[f"points {s}|{sec}" for s in SYSTEMS for sec in ("somatic", "phv", "tsb")],
            *(["change nok", "change points_total"] if change else []),
        ]
    ]
    for level in ("hf", "rhf", "rhf_sorge_for"):
        for name, v in doc.get(level, {}).items():
            pts = v.get("points", {})
            moved = change.get(level, {}).get(name, {})
            out.append(
                [
                    level.upper(),
                    name,
                    v.get("rhf", name if level != "hf" else ""),
                    v["nok"],
                    v.get("points_total", ""),
                    *[pts.get(f"{s}|{sec}", "") for s in SYSTEMS for sec in ("somatic", "phv", "tsb")],
                    *([moved.get("nok", ""), moved.get("points_total", "")] if change else []),
                ]
            )
    if doc.get("label"):
        out.append([])
        previous = LABELS[doc["previous"]] if doc.get("previous") else "nothing (the first of the year)"
        out.append(["statement", doc["label"], "change from", previous, "schedule", doc["schedule"]["isf"]])
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
                rb.get("kind", ""),
                doc.get("schedule", {}).get("rbf", ""),
            ]
        )
        out.append(["RBF", "rhf", "", *RBF_COLUMNS, *[f"achievement {i} %" for i in INDICATORS]])
        for r, v in rb["rhf"].items():
            ach = rb["achievements"].get(r, {})
            out.append(
                ["RBF", r, r, *[str(v.get(c) or "") for c in RBF_COLUMNS], *[ach.get(i, "") for i in INDICATORS]]
            )
    if doc.get("rbf_nok"):
        out.append([])
        out.append(["RBF budget year", str(doc["rbf_budget_year"]), "final minus provisional"])
        out += [["RBF", r, r, v] for r, v in doc["rbf_nok"].items()]
    return out
