"""The registries: hospital trusts (HF) and their owning RHF (data/registry.csv), and the RHF a patient's
home municipality belongs to ("sørge for", data/residence.csv: county prefix to region, with the known
exceptions by full municipality number).

A provider without financing responsibility for H-resept drugs (seed 003 sec. 5.2: private non-profit hospitals
have treatment responsibility "men ikke finansieringsansvar for H-resept legemidler") names, in
`drug_financing_hf`, the HF whose money its prescriptions' STG and TFG points are: the HF of the hospital area
the provider serves under its agreement (an inference: the seeds say who does not pay, not who does)."""

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
    drug_financing_hf: str = ""  # "": finances its own H-resept drugs; else the HF that does (module docstring)


@lru_cache(maxsize=1)
def hospitals() -> dict[str, Hospital]:
    path = Path(__file__).with_name("data") / "registry.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [
            Hospital(
                r["hf"],
                r["name"],
                r["rhf"],
                int(r["somatic_points_2025"]),
                int(r["phv_tsb_points_2025"]),
                r.get("drug_financing_hf") or "",
            )
            for r in csv.DictReader(fh)
        ]
    bad = [h.hf for h in rows if h.rhf not in RHFS]
    if bad:
        raise ValueError(f"registry.csv: unknown RHF for {bad}")
    by_hf = {h.hf: h for h in rows}
    # the named HF must be in the registry and finance its own drugs (no chains)
    payers = [
        h.hf
        for h in rows
        if h.drug_financing_hf and (h.drug_financing_hf not in by_hf or by_hf[h.drug_financing_hf].drug_financing_hf)
    ]
    if payers:
        raise ValueError(f"registry.csv: drug_financing_hf must name an HF that finances its own drugs: {payers}")
    return by_hf


def rhf_of(hf: str) -> str:
    return hospitals()[hf].rhf


def drug_financing_hf(hf: str) -> str:
    """The HF whose money the H-resept prescriptions of provider `hf` are: itself, or the HF it names."""
    return hospitals()[hf].drug_financing_hf or hf


@lru_cache(maxsize=1)
def residence_codes() -> dict[str, str]:
    path = Path(__file__).with_name("data") / "residence.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        codes = {r["code"]: r["rhf"] for r in csv.DictReader(fh)}
    bad = sorted(c for c, r in codes.items() if r not in RHFS or len(c) not in (2, 4))
    if bad:
        raise ValueError(f"residence.csv: bad rows {bad}")
    return codes


def residence_rhf(municipality: str | None, hf: str) -> str:
    """The RHF responsible for a patient ("sørge for"): by home municipality (an exception listed by its
    full number, else its county prefix); without a municipality, the producing HF's owner (an inference:
    old events carry no residence, and most patients are treated in their own region)."""
    if municipality is None:
        return rhf_of(hf)
    codes = residence_codes()
    found = codes.get(municipality) or codes.get(municipality[:2])
    if found is None:
        raise KeyError(f"municipality {municipality}: county {municipality[:2]} is not in the residence table")
    return found


def known_municipality(municipality: str) -> bool:
    codes = residence_codes()
    return municipality in codes or municipality[:2] in codes
