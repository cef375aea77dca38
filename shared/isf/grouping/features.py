"""Case features: what the definition tables say about one case's codes (stage 1 of grouping).

Follows the reference grouper's order: DGCAT from pair 1, sex recoding of MDC 98,
principal properties, procedure and OR properties, diagnosis properties (first source
kept), complications after the same-category rule, exclusions and activation, CC level.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .tables import Definitions

PRINCIPAL = "pair 1"


@dataclass(frozen=True)
class GroupingCase:
    """Input to the engine, in the reference grouper's terms."""

    sex: str  # "M", "F" or "U"
    age_days: int
    discharge: str  # "E" dead, "N" alive, "H" home, anything else = other
    los_days: int
    pairs: tuple[tuple[str, str], ...]  # pair 1 = principal (code, extra/asterisk code)
    procedures: tuple[str, ...]


@dataclass
class Features:
    dgcat: str | None = None
    mdc: str | None = None
    valid_principal: bool = False
    pdgprop: set[str] = field(default_factory=set)
    procpr: set[str] = field(default_factory=set)
    or_props: set[str] = field(default_factory=set)
    dgprop: set[str] = field(default_factory=set)
    cc_level: int = 0
    complications: dict[str, tuple[bool, int]] = field(default_factory=dict)  # value -> (active, level)
    sources: dict[str, str] = field(default_factory=dict)  # "kind:value" -> code that gave it


def _recode98(value: str, sex: str) -> str:
    if value.startswith("98"):
        if sex == "M":
            return "12" + value[2:]
        if sex == "F":
            return "13" + value[2:]
    return value


def _match(defs: Definitions, c1: str, c2: str, vartype: str, standalone_only: bool = False) -> list[tuple[str, str]]:
    """Values of `vartype` that hold for the pair (c1, c2), in order, with the code that gave each."""
    out: list[tuple[str, str]] = []
    if not c1:
        return out
    true_pair = bool(c2)
    for d_code, value in defs.dg.get(c1, {}).get(vartype, ()):
        if not d_code:
            out.append((value, c1))
        elif not standalone_only and true_pair and c1 == d_code and c2 == c1:
            out.append((value, c1))
    if true_pair:
        for d_code, value in defs.dg.get(c2, {}).get(vartype, ()):
            if not d_code:
                out.append((value, c2))
            elif not standalone_only and d_code == c1:
                out.append((value, f"{c1}+{c2}"))
    return out


def _dgcat(defs: Definitions, c1: str, c2: str) -> tuple[str, str] | None:
    if not c1:
        return None
    if c2:
        rows2 = defs.dg.get(c2, {}).get("DGCAT", ())
        for d_code, value in rows2:
            if d_code == c1:
                return value, f"{c1}+{c2}"
        if rows2:
            return rows2[0][1], c2
    rows1 = defs.dg.get(c1, {}).get("DGCAT", ())
    return (rows1[0][1], c1) if rows1 else None


def derive(defs: Definitions, case: GroupingCase) -> Features:
    f = Features()
    src = f.sources
    c1, c2 = case.pairs[0] if case.pairs else ("", "")

    found = _dgcat(defs, c1, c2)
    if found:
        f.dgcat = _recode98(found[0], case.sex)
        f.mdc = f.dgcat[:2]
        f.valid_principal = True
        src[f"DGCAT:{f.dgcat}"] = found[1]

    for value, code in _match(defs, c1, c2, "PDGPRO"):
        f.pdgprop.add(value)
        src.setdefault(f"PDGPROP:{value}", code)

    proc_cc = 0
    for p in case.procedures:
        props = defs.proc.get(p)
        if not props:
            continue
        for value in props.get("PROCPR", ()):
            f.procpr.add(value)
            src.setdefault(f"PROCPR:{value}", p)
        for value in props.get("OR", ()):
            f.or_props.add(value)
            src.setdefault(f"OR:{value}", p)
        for value in props.get("CC", ()):
            proc_cc = max(proc_cc, int(value))
    for a, b in case.pairs:
        for value, code in _match(defs, a, b, "PROCPR"):
            f.procpr.add(value)
            src.setdefault(f"PROCPR:{value}", code)
        for value, code in _match(defs, a, b, "OR", standalone_only=True):
            f.or_props.add(value)
            src.setdefault(f"OR:{value}", code)

    # DGPROP: procedures first, then pairs in order; the first source of each value counts.
    first_source: dict[str, str] = {}
    for p in case.procedures:
        for value in defs.proc.get(p, {}).get("DGPROP", ()):
            first_source.setdefault(value, p)
    for k, (a, b) in enumerate(case.pairs, start=1):
        for value, code in _match(defs, a, b, "DGPROP"):
            first_source.setdefault(value, PRINCIPAL if k == 1 else code)
    for value, origin in first_source.items():
        recoded = _recode98(value, case.sex)
        f.dgprop.add(recoded)
        src.setdefault(f"DGPROP:{recoded}", c1 if origin == PRINCIPAL else origin)

    # Complications from secondary pairs, minus the principal's own categories (any level).
    principal_cats = {v[:2] + v[3:] for v, _ in _match(defs, c1, c2, "COMPL")}
    for a, b in case.pairs[1:]:
        for value, code in _match(defs, a, b, "COMPL"):
            if len(value) < 3 or value[:2] + value[3:] in principal_cats or value in f.complications:
                continue
            kind = value[2]
            f.complications[value] = (kind in "CG", 2 if kind in "GJ" else 1)
            src[f"COMPL:{value}"] = code
    for value in list(f.complications):
        if (value, c1) in defs.exclusions or (c2 and (value, c2) in defs.exclusions):
            f.complications[value] = (False, f.complications[value][1])
    for compl, inclprop in defs.inclusions:
        if compl in f.complications and inclprop in f.dgprop:
            if first_source.get(inclprop) != PRINCIPAL:
                f.complications[compl] = (True, f.complications[compl][1])
            break
    f.cc_level = max([proc_cc] + [lvl for active, lvl in f.complications.values() if active])
    return f
