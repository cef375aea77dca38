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


# --- money: the feed's national year priced against the seeds' frames ---------------------------

# seed 001, "Rammene for ISF 2024" (MNOK; the table says "i 1000 kroner" but its totals are MNOK: 36 593 MNOK is
# seed 000's 1.75 million somatic points x 52 248 NOK x 40 %)
FRAMES_2024_MNOK = {
    "somatic": {"sor-ost": 20364, "vest": 7426, "midt-norge": 5213, "nord": 3591},
    "phv_tsb": {"sor-ost": 1432, "vest": 503, "midt-norge": 319, "nord": 216},
}
FRAME_TOTALS_2024_MNOK = {"somatic": 36593, "phv_tsb": 2469}  # as printed (the RHF figures sum to 36 594 and 2 470)
# seed 001: 2024 unit prices; somatic "refusjonsandel 40%". PHV/TSB: 3 675 read as paid per point (see params.json)
PRICES_2024 = {"somatic": (Decimal("52248"), Decimal("0.40")), "phv_tsb": (Decimal("3675"), Decimal("1"))}
PHV_TSB_SHARE_AS_WRITTEN = Decimal("0.25")  # DOMAIN's reading: points x 3 675 x 25 %
# seed 000, "Effekter RHF - Nye vekter 2026 ... sørge for", 2025 weights (2024 activity, without point supplements)
SEED_000_POINTS = {
    "somatic": {"sor-ost": 972925, "vest": 356617, "midt-norge": 247218, "nord": 171558},
    "phv_tsb": {"sor-ost": 318461, "vest": 108885, "midt-norge": 75001, "nord": 49333},
}
NATIONAL_YEAR_EVENTS = 12_000_000  # the national year of `isf bench --national` (DOMAIN 3: 10-12 million episodes)


def _mnok(points: Decimal, group: str, share: Decimal | None = None) -> Decimal:
    price, isf_share = PRICES_2024[group]
    return points * price * (isf_share if share is None else share) / 1_000_000


def _priced(points: dict[str, Decimal], group: str) -> dict:
    """Per RHF and nationally: points, MNOK at 2024 prices, the frame and frame / priced."""
    out: dict = {}
    for rhf in (*FRAMES_2024_MNOK[group], "national"):
        pts = sum(points.values(), Decimal(0)) if rhf == "national" else points.get(rhf, Decimal(0))
        frame = Decimal(FRAME_TOTALS_2024_MNOK[group] if rhf == "national" else FRAMES_2024_MNOK[group][rhf])
        mnok = _mnok(pts, group)
        out[rhf] = {
            "points": str(pts.quantize(Decimal(1))),
            "priced_mnok": str(mnok.quantize(Decimal(1))),
            "frame_mnok": str(frame),
            "frame_over_priced": str((frame / mnok).quantize(Decimal("0.001"))) if mnok else None,
        }
    return out


def money(rows: list, events: int, year: int = 2026, national_events: int = NATIONAL_YEAR_EVENTS) -> dict:
    """The seeds' own points and the feed's year (settled totals `rows` of `events` events, scaled to a national
    year of `national_events`), priced at 2024 prices against seed 001's 2024 frames, per RHF by residence
    ("sørge for", as the frames are) and nationally; point supplements (stat system SUPP) shown apart."""
    scale = Decimal(national_events) / Decimal(events)
    feed: dict[str, dict[str, Decimal]] = {"somatic": {}, "phv_tsb": {}}
    supplements: dict[str, dict[str, Decimal]] = {"somatic": {}, "phv_tsb": {}}
    for st, _period, pts, _c in point_totals(rows):
        if st.year != year:
            continue
        group = "somatic" if st.sector == "somatic" else "phv_tsb"
        d = (supplements if st.system == "SUPP" else feed)[group]
        d[st.residence] = d.get(st.residence, Decimal(0)) + Decimal(pts) / 1_000_000 * scale
    seed = {g: {r: Decimal(v) for r, v in rs.items()} for g, rs in SEED_000_POINTS.items()}
    seed_phv = sum(seed["phv_tsb"].values(), Decimal(0))
    out: dict = {
        "prices_2024": {g: {"unit_price_nok": str(p), "isf_share": str(s)} for g, (p, s) in PRICES_2024.items()},
        "seed_000_points_priced": {g: _priced(seed[g], g) for g in seed},
        "seed_000_phv_tsb_at_25_percent": {
            "priced_mnok": str(_mnok(seed_phv, "phv_tsb", PHV_TSB_SHARE_AS_WRITTEN).quantize(Decimal(1))),
            "frame_mnok": str(FRAME_TOTALS_2024_MNOK["phv_tsb"]),
        },
        "feed": {
            "rule_year": year,
            "events": events,
            "national_year_events": national_events,
            "scale": str(scale.quantize(Decimal("0.01"))),
            "without_supplements": {g: _priced(feed[g], g) for g in feed},
            "with_supplements": {
                g: _priced(
                    {r: feed[g].get(r, Decimal(0)) + supplements[g].get(r, Decimal(0)) for r in FRAMES_2024_MNOK[g]}, g
                )
                for g in feed
            },
            "supplement_points": {
                g: str(sum(supplements[g].values(), Decimal(0)).quantize(Decimal(1))) for g in supplements
            },
        },
    }
    return out
