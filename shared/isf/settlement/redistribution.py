"""Redistribution simulation: the same activity settled under two rule years, per RHF and HF.

As the directorate shows a change of weights (seed 000, "Effekter RHF/HF - nye vekter"): points
under the old and the new rules, the change, and the change in percent, somatic and PHV/TSB apart.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Iterable

from ..registry import hospitals
from .money import MICRO

GROUPS = {"somatic": "somatic", "phv": "phv_tsb", "tsb": "phv_tsb"}


def _points(rows: Iterable[tuple[str, int, int]], year: int) -> dict[tuple[str, str], int]:
    acc: dict[tuple[str, str], int] = {}
    for key, pts, _cnt in rows:
        f = key.split("|")
        if f[0] == "P" and f[1] == str(year):
            k = (f[2], GROUPS[f[3]])
            acc[k] = acc.get(k, 0) + pts
    return acc


def _line(a: int, b: int) -> dict:
    pa, pb = Decimal(a) / MICRO, Decimal(b) / MICRO
    pct = ((pb - pa) / pa * 100).quantize(Decimal("0.01")) if a else None
    return {"before": str(pa), "after": str(pb), "change": str(pb - pa), "change_pct": None if pct is None else str(pct)}


def compare(rows_before, year_before: int, rows_after, year_after: int) -> dict:
    """Per HF and RHF, for somatic, PHV/TSB and in all: points before, after, change and percent."""
    a, b = _points(rows_before, year_before), _points(rows_after, year_after)
    reg = hospitals()
    out: dict = {"before": year_before, "after": year_after, "hf": {}, "rhf": {}}
    sums: dict[str, dict[tuple[str, str], int]] = {"hf": {}, "rhf": {}}
    for (hf, group) in set(a) | set(b):
        for level, name in (("hf", hf), ("rhf", reg[hf].rhf)):
            for g in (group, "all"):
                for side, src in ((0, a), (1, b)):
                    k = (name, g, side)
                    sums[level][k] = sums[level].get(k, 0) + src.get((hf, group), 0)
    for level in ("hf", "rhf"):
        names = sorted({k[0] for k in sums[level]})
        for name in names:
            out[level][name] = {g: _line(sums[level].get((name, g, 0), 0), sums[level].get((name, g, 1), 0))
                                for g in ("somatic", "phv_tsb", "all")
                                if (name, g, 0) in sums[level] or (name, g, 1) in sums[level]}
    return out
