"""Redistribution effects: the same activity under an old and a new year's weights, per HF and RHF.

Two questions, labelled in the output by `mode`:
- `weights_only`, the directorate's (seed 000, "Omfordelingseffekter" / "Effekter RHF/HF - nye vekter") and the
  default: the activity grouped once, with the old year's logic; each DRG episode and STG patient-period priced with
  both years' weights, looked up by its code in each year's lists; no TFG (members priced as themselves) and no
  point supplements.
- `regroup`: each year's full rules over the same events (own grouping logic, weights, TFG and supplements).
Budget-neutral by default (seed 000: the new weight set is "kalibrert for å sikre budsjettnøytralitet", national
change 0,00 %): the new points are scaled, somatic and PHV/TSB apart, so that each national total is the old one;
`budget_neutral=False` shows the raw change.
Per HF, per RHF by residence (`rhf_sorge_for`, the directorate's view) and by the producing HF's owner (`rhf`),
somatic and PHV/TSB apart: points before and after, the change and the change in percent.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import Callable, Iterable

from ..events import Delta
from ..grouping.activity import Grouped, drg_points
from ..periods.calendar import label, score
from ..periods.ledger import Contributions, Unit, contributions
from ..periods.points import micro
from ..registry import hospitals
from ..replay import Pipeline
from ..rules import rule_year
from ..stats import PointStat, point_totals
from .money import MICRO

GROUPS = {"somatic": "somatic", "phv": "phv_tsb", "tsb": "phv_tsb"}
NAMESPACE = "redist"
LEVELS = ("hf", "rhf_sorge_for", "rhf", "national")


def weights_only_contributions(years: tuple[int, ...]):
    """What an activity contributes when priced with each of `years`' weights, as grouped: DRG episodes and STG
    patient-periods (unique per HF, period of the grouping year's STG), keyed by the weights' year."""

    def contributions_of(g: Grouped) -> Contributions:
        if not g.isf_financed:  # outside ISF or block-funded: never ISF money, under any weights
            return Contributions()
        a = g.activity
        assert a.end is not None  # counted: grouped under a rule year, so it has ended
        sector = a.sector if a.kind == "episode" else "somatic"
        day = a.end.date()
        items: list[Delta] = []
        units: list[tuple[Unit, int]] = []
        for y in years:
            rules = rule_year(y)
            if g.drg is not None:
                st = PointStat("P", y, a.hf, sector, "DRG", g.drg, a.residence)
                items.append(
                    Delta(
                        stat=str(st),
                        period=label("tertial", day),
                        points_micro=micro(drg_points(rules, a, g.drg)),
                        count=1,
                    )
                )
            if g.stg is not None:
                grouped_as = rule_year(g.rule_year).stgs[g.stg]
                priced = rules.stgs.get(g.stg)
                pts = micro(priced.weight) if priced is not None and g.isf_financed else 0
                st = PointStat("P", y, a.hf, sector, "STG", g.stg, a.residence)
                units.append(
                    (
                        Unit(
                            f"{y}|{a.hf}|STG|{g.stg}",
                            a.patient,
                            label(grouped_as.period, day),
                            str(st),
                            pts,
                            grouped_as.period == "year",
                        ),
                        score(day),
                    )
                )
        return contributions(items, units)

    return contributions_of


def pipelines(key: bytes, before: int, after: int, regroup: bool = False) -> list[Callable[[], Pipeline]]:
    """The replays whose totals a comparison reads: one pricing the activity grouped once under both
    years' weights, or (`regroup`) one grouping and pricing it under each year."""
    if regroup:
        return [partial(Pipeline, key, rule_year=y) for y in (before, after)]
    return [
        partial(Pipeline, key, rule_year=before, ledgers=((NAMESPACE, weights_only_contributions((before, after))),))
    ]


def replay(events: Iterable[bytes], key: bytes, before: int, after: int, regroup: bool = False) -> list:
    """Settled totals of the same events for both years' pricing (point stats keyed by the pricing year)."""
    events = list(events)
    return [row for make in pipelines(key, before, after, regroup) for row in make().run(events).totals.rows()]


def _apportion(exact: dict, total: int) -> dict:
    """Whole micro-points adding up to `total` exactly (largest remainder)."""
    floors = {k: int(v) for k, v in exact.items()}  # points are never negative: int() floors
    for k in sorted(exact, key=lambda k: (exact[k] - floors[k], k), reverse=True)[
        : max(0, total - sum(floors.values()))
    ]:
        floors[k] += 1
    return floors


def _line(a: int, b: int) -> dict:
    pa, pb = Decimal(a) / MICRO, Decimal(b) / MICRO
    pct = ((pb - pa) / pa * 100).quantize(Decimal("0.01")) if a else None
    return {
        "before": str(pa),
        "after": str(pb),
        "change": str(pb - pa),
        "change_pct": None if pct is None else str(pct),
    }


def compare(rows, before: int, after: int, mode: str = "weights_only", budget_neutral: bool = True) -> dict:
    """Per HF, RHF (by residence and by owner) and nation, somatic and PHV/TSB apart: before, after, change, percent."""
    cells: dict[tuple[str, str, str], list[int]] = {}  # (hf, residence, group) -> [before, after] micro-points
    unpriced: dict[str, dict[str, int]] = {}
    for st, _period, pts, cnt in point_totals(rows):
        if st.year not in (before, after):
            continue
        side = 0 if st.year == before else 1
        cells.setdefault((st.hf, st.residence, GROUPS[st.sector]), [0, 0])[side] += pts
        rules = rule_year(st.year)
        if mode == "weights_only" and st.code not in (rules.weights if st.system == "DRG" else rules.stgs):
            u = unpriced.setdefault(str(st.year), {})
            u[f"{st.system}|{st.code}"] = u.get(f"{st.system}|{st.code}", 0) + cnt
    scale = None
    if budget_neutral:
        scale = {}
        for group in sorted({k[2] for k in cells}):
            mine = {k: v for k, v in cells.items() if k[2] == group}
            total_before, total_after = sum(v[0] for v in mine.values()), sum(v[1] for v in mine.values())
            if not total_after:
                continue
            scale[group] = Decimal(total_before) / Decimal(total_after)
            for k, v in _apportion({k: v[1] * scale[group] for k, v in mine.items()}, total_before).items():
                cells[k][1] = v
    reg = hospitals()
    sums: dict[str, dict[str, dict[str, list[int]]]] = {level: {} for level in LEVELS}
    for (hf, residence, group), (b, a) in cells.items():
        for level, name in (("hf", hf), ("rhf_sorge_for", residence), ("rhf", reg[hf].rhf), ("national", "all")):
            s = sums[level].setdefault(name, {}).setdefault(group, [0, 0])
            s[0] += b
            s[1] += a
    out: dict = {
        "mode": mode,
        "before": before,
        "after": after,
        "grouping_logic": before if mode == "weights_only" else "each year's own",
        "tfg": mode == "regroup",
        "point_supplements": mode == "regroup",
        "budget_neutral": budget_neutral,
        "scale": None if scale is None else {g: str(f) for g, f in scale.items()},
        "unpriced": unpriced,
    }
    for level in LEVELS:
        lines = {
            name: {g: _line(*v) for g, v in sorted(groups.items())} for name, groups in sorted(sums[level].items())
        }
        out[level] = lines.get("all", {}) if level == "national" else lines
    return out
