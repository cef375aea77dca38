"""Coding feedback from settled totals: episodes in error DRGs with their reasons, case mix and its drift, per HF.

The totals are the `C|...` stats the points ledger keeps (`isf.periods.coding`), so the figures converge like
every other sum. Per HF and month (and per sector): DRG episodes, the case-mix index (DRG points per DRG
episode), the share grouped with complications (CC level above 0), and the episodes in error DRGs, each with
its return code, the code that failed and its source id.

Drift (docs/coding-feedback.md): a month is compared with the HF's own earlier months of the rule year (all
sectors together). Only months with at least `MIN_N` DRG episodes count, and a month is tested once `MIN_HISTORY`
such months precede it; a month outside a measure's band stays out of that measure's history (a lasting shift
stays flagged). The expected value is the pooled history (CC share: all CC episodes over all episodes;
CMI: all points over all episodes); the band is expected ± `Z` standard errors of the difference between the
month and that history, sd²·(1/n + 1/N), with the binomial sd² = p(1 - p) for the CC share and the history's
sample variance per episode (from the kept sum of squares) for the CMI. With a steady coding practice and
independent episodes a month leaves the band with probability 0.27 % per measure (normal approximation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable

from .grouping.engine import RTC_REASONS
from .rules import rule_year
from .stats import coding_totals

MIN_N = 30  # DRG episodes a month needs to be tested or to be history
MIN_HISTORY = 3  # months of history before the first signal
Z = 3.0  # band half-width in standard errors: 0.27 % false alarms per month and measure
MICRO = 1_000_000


@dataclass
class Month:
    """Sums of one HF (and sector) in one month."""

    n: int = 0  # DRG episodes
    points: int = 0  # micro-points
    sq: int = 0  # micro-points² / 10^6 (points² x 10^6)
    cc: int = 0  # episodes with complications

    def add(self, other: "Month") -> None:
        self.n += other.n
        self.points += other.points
        self.sq += other.sq
        self.cc += other.cc

    @property
    def cmi(self) -> float:
        return self.points / MICRO / self.n

    @property
    def cc_share(self) -> float:
        return self.cc / self.n


@dataclass(frozen=True)
class ErrorEpisode:
    source: str
    month: str
    sector: str
    rtc: str
    code: str

    @property
    def reason(self) -> str:
        return f"{self.rtc}:{self.code}"


@dataclass
class HfCoding:
    months: dict[tuple[str, str], Month] = field(default_factory=dict)  # (sector, month) -> sums
    errors: list[ErrorEpisode] = field(default_factory=list)

    def by_month(self) -> dict[str, Month]:
        out: dict[str, Month] = {}
        for (_sector, month), m in self.months.items():
            out.setdefault(month, Month()).add(m)
        return dict(sorted(out.items()))


def figures(rows: Iterable[tuple[str, int, int]], year: int) -> dict[str, HfCoding]:
    """The coding feedback's sums per HF of one rule year, from totals rows."""
    out: dict[str, HfCoding] = {}
    for st, month, pts, cnt in coding_totals(rows):
        if st.year != year:
            continue
        hf = out.setdefault(st.hf, HfCoding())
        if st.measure == "err":
            rtc, code, source = st.error
            hf.errors.extend([ErrorEpisode(source, month, st.sector, rtc, code)] * cnt)
            continue
        m = hf.months.setdefault((st.sector, month), Month())
        if st.measure == "drg":
            m.n += cnt
            m.points += pts
        elif st.measure == "sq":
            m.sq += pts
        elif st.measure == "cc":
            m.cc += cnt
    for hf in out.values():
        hf.errors.sort(key=lambda e: (e.month, e.source))
    return out


@dataclass(frozen=True)
class Signal:
    month: str
    measure: str  # "cmi" or "cc_share"
    value: float
    expected: float
    band: tuple[float, float]

    def to_json(self) -> dict:
        return {
            "month": self.month,
            "measure": self.measure,
            "value": round(self.value, 4),
            "expected": round(self.expected, 4),
            "band": [round(self.band[0], 4), round(self.band[1], 4)],
        }


def drift(months: dict[str, Month]) -> list[Signal]:
    """The months (in order) whose CMI or CC share leaves the band of the HF's own earlier months. A month
    outside a measure's band does not enter that measure's history: a lasting shift stays flagged, it is not
    learned as the new normal within the year."""
    out: list[Signal] = []
    hist = {"cmi": (Month(), [0]), "cc_share": (Month(), [0])}  # measure -> (sums, months in them)
    for label, m in sorted(months.items()):
        if m.n < MIN_N:
            continue
        for measure, (h, seen) in hist.items():
            band = _band_of(measure, h, m.n) if seen[0] >= MIN_HISTORY else None
            value = m.cmi if measure == "cmi" else m.cc_share
            if band is not None and not band[1] <= value <= band[2]:
                out.append(Signal(label, measure, value, band[0], (band[1], band[2])))
            else:
                h.add(m)
                seen[0] += 1
    return out


def _band_of(measure: str, h: Month, n: int) -> tuple[float, float, float]:
    """(expected, low, high) of a month of `n` episodes against the history `h`."""
    N = h.n
    if measure == "cmi":
        expected = h.points / MICRO / N
        var = (h.sq / MICRO - N * expected * expected) / (N - 1)
    else:
        expected = h.cc / N
        p = min(max(expected, 0.5 / N), 1 - 0.5 / N)  # a history with no CC still has a band
        var = p * (1 - p)
    half = Z * math.sqrt(max(var, 0.0) * (1 / n + 1 / N))
    high = expected + half if measure == "cmi" else min(1.0, expected + half)
    return expected, max(0.0, expected - half), high  # neither measure can leave [0, 1] or go below 0


def error_groups(year: int) -> dict[str, str]:
    """The rule year's error DRGs: those the definitions' logic rows give with a return code the set does not count
    as fine, each with what its return codes mean (the set's own texts where it has them)."""
    defs = rule_year(year).definitions
    texts = defs.rtc_texts or RTC_REASONS
    out: dict[str, set[str]] = {}
    for row in defs.logic:
        if row.rtc not in defs.fine_rtcs:
            out.setdefault(row.drg, set()).add(row.rtc)
    return {drg: "; ".join(texts.get(r, f"return code {r}") for r in sorted(rtcs)) for drg, rtcs in out.items()}


def document(rows: Iterable[tuple[str, int, int]], year: int) -> dict:
    """What `isf coding` prints and `GET /api/coding` serves (scoped by role): per HF, the year's DRG episodes,
    its episodes in error DRGs by reason (`<return code>:<code that failed>`) and each of them, CMI and CC share
    per month (also per sector), and the drift signals."""
    hfs = {}
    for hf, c in sorted(figures(rows, year).items()):
        months = c.by_month()
        episodes = sum(m.n for m in months.values())
        by_reason: dict[str, int] = {}
        for e in c.errors:
            by_reason[e.reason] = by_reason.get(e.reason, 0) + 1
        sectors: dict[str, dict] = {}
        for (sector, month), m in sorted(c.months.items()):
            if m.n:
                s = sectors.setdefault(sector, {"episodes": 0, "cmi": {}, "cc_share": {}})
                s["episodes"] += m.n
                s["cmi"][month] = round(m.cmi, 4)
                s["cc_share"][month] = round(m.cc_share, 4)
        hfs[hf] = {
            "episodes": episodes,
            "error_drg": {
                "count": len(c.errors),
                "share": round(len(c.errors) / episodes, 4) if episodes else 0.0,
                "by_reason": dict(sorted(by_reason.items())),
                "by_month": _count_by_month(c.errors),
            },
            "error_episodes": [
                {"source": e.source, "month": e.month, "sector": e.sector, "rtc": e.rtc, "code": e.code}
                for e in c.errors
            ],
            "episodes_by_month": {k: m.n for k, m in months.items() if m.n},
            "cmi": {k: round(m.cmi, 4) for k, m in months.items() if m.n},
            "cc_share": {k: round(m.cc_share, 4) for k, m in months.items() if m.n},
            "sectors": sectors,
            "drift": [s.to_json() for s in drift(months)],
        }
    return {
        "year": year,
        "error_groups": error_groups(year),
        "return_codes": dict(sorted(RTC_REASONS.items())),
        "hf": hfs,
    }


def _count_by_month(errors: list[ErrorEpisode]) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in errors:
        out[e.month] = out.get(e.month, 0) + 1
    return dict(sorted(out.items()))


def table(doc: dict) -> list[list]:
    """The document (as a role sees it) as rows for CSV: one line per HF and month, then one per episode in an
    error DRG when the document lists them."""
    rows: list[list] = [["hf", "month", "episodes", "error_drg", "cmi", "cc_share", "drift"]]
    for hf, h in doc.get("hf", {}).items():
        errors = h.get("error_drg", {}).get("by_month", {})
        flags: dict[str, list[str]] = {}
        for s in h.get("drift", []):
            flags.setdefault(s["month"], []).append(s["measure"])
        for month, n in h.get("episodes_by_month", {}).items():
            cmi, cc = h.get("cmi", {}).get(month), h.get("cc_share", {}).get(month)
            rows.append(
                [hf, month, str(n), str(errors.get(month, 0)), str(cmi), str(cc), " ".join(flags.get(month, []))]
            )
    episodes = [(hf, e) for hf, h in doc.get("hf", {}).items() for e in h.get("error_episodes", [])]
    if episodes:
        rows += [[], ["hf", "source", "month", "sector", "rtc", "code"]]
        rows += [[hf, e["source"], e["month"], e["sector"], e["rtc"], e["code"]] for hf, e in episodes]
    return rows
