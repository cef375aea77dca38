"""Agreement of this engine with the reference grouper's golden cases."""

from __future__ import annotations

from pathlib import Path

from .casestring import read_golden
from .engine import group_case
from .tables import load_definitions


def run_conformance(defs_path: Path, cases_path: Path) -> tuple[dict, list[dict]]:
    defs = load_definitions(defs_path)
    summary = {"cases": 0, "drg_agree": 0, "logic_agree": 0, "rtc_agree": 0}
    disagreements = []
    for g in read_golden(cases_path):
        r = group_case(defs, g.case, explain=False)
        summary["cases"] += 1
        ok = {"drg": r.drg == g.drg, "logic": r.ord == g.ord, "rtc": r.rtc == g.rtc}
        for k, v in ok.items():
            summary[f"{k}_agree"] += int(v)
        if not all(ok.values()):
            disagreements.append(
                {
                    "case": g.number,
                    "expected": {"drg": g.drg, "ord": g.ord, "rtc": g.rtc},
                    "got": {"drg": r.drg, "ord": r.ord, "rtc": r.rtc},
                }
            )
    return summary, disagreements
