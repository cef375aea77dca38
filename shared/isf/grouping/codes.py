"""What a diagnosis code, a diagnosis pair or a procedure gives a case (`CodeProps`): its facts by sex, its DGCAT,
its complications and its CC, compiled once from the definition tables' values."""

from __future__ import annotations

from typing import NamedTuple

from .logic import ANY_OR, OR_1_OR_2, TAG, VALID, recode98


class Complication(NamedTuple):
    value: str
    category: str  # the value without its 3rd character: the same-category rule compares these
    active: bool
    level: int


class CodeProps(NamedTuple):
    """What the tables give one diagnosis code, diagnosis pair or procedure, ready to merge into a case.
    Facts come by sex (a male, a female, unknown) because MDC 98 values are recoded by sex."""

    facts: tuple[frozenset[str], ...]  # as a secondary pair or a procedure: PROCPR, OR and DGPROP
    as_principal: tuple[frozenset[str], ...]  # as the principal pair: also PDGPRO, a valid principal, DGCAT, MDC
    dgcat: tuple[str | None, ...]  # DGCAT as the principal
    dgprop: frozenset[str]  # DGPROP before sex recoding
    complications: tuple[Complication, ...]  # COMPL values usable on a secondary pair
    categories: frozenset[str]  # category of every COMPL value, for the same-category rule
    cc: int  # procedure CC
    dgcat_source: str  # for a pair, the code (or "dagger+asterisk") that gave the DGCAT; "" for a code alone


SEXES = ("M", "F", "U")
SEX_INDEX = {"M": 0, "F": 1}  # any other sex: 2, unknown


def code_props(values: dict[str, list[str]], cc: int = 0, dgcat: tuple[str, str] | None = None) -> CodeProps:
    """Compile the values of one code or pair, by vartype, into `CodeProps`."""
    ors = values.get("OR", ())
    base = [TAG["PROCPR"] + v for v in values.get("PROCPR", ())] + [TAG["OR"] + v for v in ors]
    if ors:
        base.append(ANY_OR)
        if "1" in ors or "2" in ors:
            base.append(OR_1_OR_2)
    dgprop = values.get("DGPROP", ())
    if any(v.startswith("98") for v in dgprop):
        facts = tuple(frozenset(base + [TAG["DGPROP"] + recode98(v, sex) for v in dgprop]) for sex in SEXES)
    else:
        facts = (frozenset(base + [TAG["DGPROP"] + v for v in dgprop]),) * 3
    principal_only = [TAG["PDGPRO"] + v for v in values.get("PDGPRO", ())]
    dgcats = tuple(recode98(dgcat[0], sex) for sex in SEXES) if dgcat else (None, None, None)
    if dgcat is None and not principal_only:
        as_principal = facts
    else:
        as_principal = tuple(
            fs.union(principal_only, [VALID, TAG["DGCAT"] + cat, TAG["MDC"] + cat[:2]] if cat is not None else ())
            for fs, cat in zip(facts, dgcats)
        )
    compls = values.get("COMPL", ())
    return CodeProps(
        facts,
        as_principal,
        dgcats,
        frozenset(dgprop),
        tuple(Complication(v, v[:2] + v[3:], v[2] in "CG", 2 if v[2] in "GJ" else 1) for v in compls if len(v) >= 3),
        frozenset([v[:2] + v[3:] for v in compls]),
        cc,
        dgcat[1] if dgcat else "",
    )


NO_PROPS = code_props({})


# Which code of a principal pair (c1, c2) gives its DGCAT when both have one: the 2016 reference takes the second
# (FORMAT.md section 4, step 2; golden case 38); one public benchmark of today's logic takes the first
# (MODERN-FORMAT.md item 8). An open question, so a labelled choice per definition set.
PAIR_CATEGORY = ("second", "first")


def pair_dgcat(rows1, rows2, c1: str, c2: str, pair_category: str = "second") -> tuple[str, str] | None:
    """The row of the (dagger c1, asterisk c2) pair, else the chosen code's first row, else the other code's."""
    for d_code, value in rows2:
        if d_code == c1:
            return value, f"{c1}+{c2}"
    order = ((rows2, c2), (rows1, c1)) if pair_category == "second" else ((rows1, c1), (rows2, c2))
    for rows, code in order:
        if rows:
            return rows[0][1], code
    return None
