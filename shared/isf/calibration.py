"""Calibration of the synthetic feed against seed 000: points per HF and RBF achievements.

Replays a simulated (reduced) year and compares each HF's share of ISF points, somatic and PHV/TSB
apart, with its share in seed 000's HF tables, and each RHF's indicator achievements with the
ranges seed 000 shows for 2026 (large indicators) and the span of the small ones.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable

from .registry import hospitals
from .replay import Pipeline
from .settlement.statements import achievements, indicator_figures
from .stats import point_totals

# seed 000, "Måloppnåelse ved foreløpig fordeling": lowest and highest RHF value, in percent
SEED_000_RANGES = {"1": (12.1, 17.4), "2": (25.3, 28.6), "9": (62.1, 71.4)}
SMALL_INDICATORS_MAX = 3.6  # the largest of indicators 3-8 in the same charts
MIN_SHARE = 0.02  # HFs below 2 % of a sector are too small for a reduced year to say much


def calibrate(events: Iterable[bytes], year: int = 2026) -> dict:
    rows = list(Pipeline(b"calibration").run(events).totals.rows())
    reg = hospitals()
    points: dict[str, dict[str, int]] = {"somatic": {}, "phv_tsb": {}}
    for st, _period, pts, _c in point_totals(rows):
        if st.year == year:
            d = points["somatic" if st.sector == "somatic" else "phv_tsb"]
            d[st.hf] = d.get(st.hf, 0) + pts
    out: dict = {"year": year, "hf_share_deviation_pct": {}, "largest_deviation": {}}
    for sector, attr in (("somatic", "somatic_points_2025"), ("phv_tsb", "phv_tsb_points_2025")):
        total, ref = sum(points[sector].values()), sum(getattr(h, attr) for h in reg.values())
        devs = {}
        for hf, h in reg.items():
            expected = getattr(h, attr) / ref
            if expected >= MIN_SHARE and total:
                devs[hf] = round((points[sector].get(hf, 0) / total - expected) / expected * 100, 1)
        out["hf_share_deviation_pct"][sector] = devs
        worst = max(devs, key=lambda k: abs(devs[k])) if devs else None
        out["largest_deviation"][sector] = {"hf": worst, "pct": devs[worst] if worst else None}
    ach = achievements(indicator_figures(rows, year, str(year)))
    out["achievements"] = {r: {i: str(v.quantize(Decimal("0.1"))) for i, v in inds.items()} for r, inds in ach.items()}
    out["seed_000_ranges"] = {i: list(r) for i, r in SEED_000_RANGES.items()}
    return out
