"""The registry of hospital trusts (HF) and their regional health authority (RHF), from data/registry.csv."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

RHFS = ("sor-ost", "vest", "midt-norge", "nord")


@dataclass(frozen=True)
class Hospital:
    hf: str
    name: str
    rhf: str
    somatic_points_2025: int  # seed 000, "Effekter HF somatikk", 2025 weights
    phv_tsb_points_2025: int  # seed 000, "Effekter HF PHV/TSB", 2025 weights


@lru_cache(maxsize=1)
def hospitals() -> dict[str, Hospital]:
    path = Path(__file__).with_name("data") / "registry.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [Hospital(r["hf"], r["name"], r["rhf"], int(r["somatic_points_2025"]), int(r["phv_tsb_points_2025"]))
                for r in csv.DictReader(fh)]
    bad = [h.hf for h in rows if h.rhf not in RHFS]
    if bad:
        raise ValueError(f"registry.csv: unknown RHF for {bad}")
    return {h.hf: h for h in rows}


def rhf_of(hf: str) -> str:
    return hospitals()[hf].rhf
