"""Case features: what the definition tables say about one case's codes (stage 1 of grouping).

Follows the reference grouper's order: DGCAT from pair 1, sex recoding of MDC 98,
principal properties, procedure and OR properties, diagnosis properties (first source
kept), complications after the same-category rule, exclusions and activation, CC level.
The result is one set of facts (see `tables`) that the logic rules test; which code gave
each property is worked out only when an explanation is asked for.
"""

from __future__ import annotations

from typing import NamedTuple

from .codes import NO_PROPS, SEX_INDEX, SEXES, CodeProps
from .logic import TAG, discharge_mode, recode98
from .tables import Definitions

_SEX_FACTS = {sex: TAG["sex"] + sex for sex in SEXES}
_DISCH_FACTS = {m: TAG["disch"] + discharge_mode(m) for m in ("E", "N", "H")}
_OTHER_DISCH = TAG["disch"] + "other"
_CC_FACTS = tuple(TAG["cc"] + str(n) for n in range(10))


class GroupingCase(NamedTuple):
    """Input to the engine, in the reference grouper's terms."""

    sex: str  # "M", "F" or "U"
    age_days: int
    discharge: str  # "E" dead, "N" alive, "H" home, anything else = other
    los_days: int
    pairs: tuple[tuple[str, str], ...]  # pair 1 = principal (code, extra/asterisk code)
    procedures: tuple[str, ...]


class Features(NamedTuple):
    """What the tables say about one case: the facts the logic rows test, and what an explanation shows."""

    facts: set[str]
    dgcat: str | None
    mdc: str | None
    cc_level: int
    complications: dict[str, tuple[bool, int]]  # value -> (active, level)
    sources: dict[str, str]  # "kind:value" -> code that gave it (explain only)


_tuple = tuple.__new__  # a NamedTuple built positionally, without its Python-level constructor


def derive(defs: Definitions, case: GroupingCase, explain: bool = False) -> Features:
    sex = SEX_INDEX.get(case.sex, 2)
    pairs = case.pairs
    c1, c2 = pairs[0]
    diagnoses = defs.diagnoses
    principal = diagnoses.get(c1, NO_PROPS) if not c2 else defs.pair_props(c1, c2)

    facts = set(principal.as_principal[sex])
    facts.add(_SEX_FACTS.get(case.sex) or TAG["sex"] + case.sex)
    facts.add(_DISCH_FACTS.get(case.discharge, _OTHER_DISCH))
    cc = 0
    procedures = defs.procedures
    for code in case.procedures:
        p = procedures.get(code)
        if p is not None:
            facts |= p.facts[sex]
            if p.cc > cc:
                cc = p.cc
    comps: dict[str, list] = {}
    complications: dict[str, tuple[bool, int]] = {}
    for a, b in pairs[1:]:
        if not a:
            continue
        s = diagnoses.get(a, NO_PROPS) if not b else defs.pair_props(a, b)
        facts |= s.facts[sex]
        for c in s.complications:
            if c.category not in principal.categories and c.value not in comps:
                comps[c.value] = [c.active, c.level]
    if comps:
        for value, comp in comps.items():
            if (value, c1) in defs.exclusions or (c2 and (value, c2) in defs.exclusions):
                comp[0] = False
        for compl, inclprop in defs.inclusions:
            if compl in comps and TAG["DGPROP"] + inclprop in facts:
                # a property first given by the principal pair does not switch a category on
                if not (
                    inclprop in principal.dgprop
                    and not any(inclprop in p.dgprop for p in map(procedures.get, case.procedures) if p is not None)
                ):
                    comps[compl][0] = True
                break
        complications = {v: (a, lvl) for v, (a, lvl) in comps.items()}
        cc = max([cc] + [lvl for a, lvl in comps.values() if a])
    facts.add(_CC_FACTS[cc] if cc < len(_CC_FACTS) else TAG["cc"] + str(cc))
    dgcat = principal.dgcat[sex]
    sources = _sources(defs, case, principal, dgcat, complications) if explain else {}
    return _tuple(Features, (facts, dgcat, dgcat[:2] if dgcat is not None else None, cc, complications, sources))


def _sources(
    defs: Definitions, case: GroupingCase, principal: CodeProps, dgcat: str | None, complications: dict
) -> dict[str, str]:
    """Which code gave each property of the case: the first one, in the reference grouper's order."""
    c1 = case.pairs[0][0]
    pairs = [defs.pair_values(a, b) for a, b in case.pairs]
    procedures = [defs.procedure_values(p) for p in case.procedures]
    src: dict[str, str] = {}
    if dgcat is not None:
        src[f"DGCAT:{dgcat}"] = principal.dgcat_source or c1
    for value, code in pairs[0].get("PDGPRO", ()):
        src.setdefault(f"PDGPROP:{value}", code)
    for kind in ("PROCPR", "OR"):
        for values in procedures + pairs:
            for value, code in values.get(kind, ()):
                src.setdefault(f"{kind}:{value}", code)
    first_source: dict[str, str] = {}
    for k, values in enumerate(procedures + pairs):
        for value, code in values.get("DGPROP", ()):
            first_source.setdefault(value, c1 if k == len(procedures) else code)  # pair 1 names its first code
    for value, origin in first_source.items():
        src.setdefault(f"DGPROP:{recode98(value, case.sex)}", origin)
    for values in pairs[1:]:
        for value, code in values.get("COMPL", ()):
            if value in complications:
                src.setdefault(f"COMPL:{value}", code)
    return src
