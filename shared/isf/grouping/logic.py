"""A `drglogic` row as a rule: one rule per column (`COLUMN_RULES`, FORMAT.md section 5) turns each cell into
facts the case must have or must not have and ranges its age, length of stay and CC level must lie in.

Every property of a case that a logic row can test is one tagged string, a "fact" (`TAG`).
"""

from __future__ import annotations

from dataclasses import dataclass

LOGIC_COLUMNS = (
    "icd",
    "mdc",
    "pdgprop",
    "or",
    "procpro1",
    "dgcat1",
    "agelim",
    "compl",
    "sex",
    "dgprop1",
    "dgprop2",
    "dgprop3",
    "dgprop4",
    "secproc1",
    "disch",
    "dur",
)


@dataclass(frozen=True)
class LogicRow:
    ord: str
    drg: str
    rtc: str
    cells: tuple[tuple[str, str, str], ...]  # (column, op, value) for every non-empty cell


def split_cell(raw: str) -> tuple[str, str]:
    """A cell is an optional operator from `+ - < > =` then a value."""
    raw = raw.strip()
    if raw and raw[0] in "+-<>=":
        return raw[0], raw[1:].strip()
    return "", raw


VALID = "V"  # the principal diagnosis has a DGCAT
ANY_OR = "O*"  # some OR property
OR_1_OR_2 = "OP"  # OR property 1 or 2
TAG = {
    "MDC": "M:",
    "DGCAT": "C:",
    "PDGPRO": "Q:",
    "PROCPR": "P:",
    "DGPROP": "D:",
    "OR": "O:",
    "sex": "S:",
    "disch": "H:",
    "cc": "K:",
}
LOW, HIGH = -(10**18), 10**18


def recode98(value: str, sex: str) -> str:
    """MDC 98 (genital organs of either sex) becomes 12 for a male, 13 for a female."""
    if value.startswith("98"):
        if sex == "M":
            return "12" + value[2:]
        if sex == "F":
            return "13" + value[2:]
    return value


def discharge_mode(mode: str) -> str:
    return mode if mode in ("E", "N", "H") else "other"


@dataclass(frozen=True, slots=True)
class Rule:
    """A logic row as sets and ranges: it holds when every required fact is there, no forbidden
    one is, and age, length of stay and CC level lie strictly inside their (low, high) ranges."""

    required: frozenset[str]
    forbidden: frozenset[str]
    age: tuple[int, int]
    los: tuple[int, int]
    cc: tuple[int, int]
    row: LogicRow


class _RuleBuilder:
    def __init__(self):
        self.required: set[str] = set()
        self.forbidden: set[str] = set()
        self.bounds = {"age": [LOW, HIGH], "los": [LOW, HIGH], "cc": [LOW, HIGH]}
        self.never = False

    def member(self, fact: str, op: str) -> None:
        (self.forbidden if op == "-" else self.required).add(fact)

    def below(self, name: str, n: int) -> None:
        self.bounds[name][1] = min(self.bounds[name][1], n)

    def above(self, name: str, n: int) -> None:
        self.bounds[name][0] = max(self.bounds[name][0], n)


def _icd(b: _RuleBuilder, op: str, value: str) -> None:
    if op in ("+", "-") and not value:
        b.member(VALID, op)


def _mdc(b: _RuleBuilder, op: str, value: str) -> None:
    if value:
        b.member(TAG["MDC"] + value, op)  # "-": a case without MDC counts as different


def _dgcat1(b: _RuleBuilder, op: str, value: str) -> None:
    if value:
        if op == "-":
            b.required.add(VALID)  # a DGCAT, and not this one
        b.member(TAG["DGCAT"] + value, op)


def _property(vartype: str):
    def rule(b: _RuleBuilder, op: str, value: str) -> None:
        if value:  # a lone "-" tests nothing
            b.member(TAG[vartype] + value, op)

    return rule


def _or(b: _RuleBuilder, op: str, value: str) -> None:
    letter = value.upper()
    if op in ("", "+") and letter in ("S", "P", "N", "Z"):
        # S: has 1; P: has 1 or 2; N: has no 1; Z: has neither
        b.member(TAG["OR"] + "1" if letter in ("S", "N") else OR_1_OR_2, "" if letter in ("S", "P") else "-")
    elif op in ("+", "-") and not value:
        b.member(ANY_OR, op)
    elif op == "-":
        b.never = True  # "-" followed by anything but S/P/N/Z never holds


def _numeric(name: str):
    def rule(b: _RuleBuilder, op: str, value: str) -> None:
        if op == "<":
            b.below(name, int(value))
        elif op == ">":
            b.above(name, int(value))
        # any other operator holds: the reference has no equality test here

    return rule


def _sex(b: _RuleBuilder, op: str, value: str) -> None:
    if value in ("M", "F") and op != "-":
        b.required.add(TAG["sex"] + value)
    elif op == "-" and not value:
        b.required.add(TAG["sex"] + "U")


def _disch(b: _RuleBuilder, op: str, value: str) -> None:
    want = discharge_mode(value)
    if op == "-":
        b.forbidden.add(TAG["disch"] + want)
    elif want == "N":
        b.forbidden.add(TAG["disch"] + "E")  # alive: anything but dead
    else:
        b.required.add(TAG["disch"] + want)


def _compl(b: _RuleBuilder, op: str, value: str) -> None:
    n = int(value)
    if op in ("", "+", "="):
        b.above("cc", n - 1)
    elif op == ">":
        b.above("cc", n)
    elif op == "<":
        b.below("cc", n)
    else:
        b.forbidden.add(TAG["cc"] + str(n))


# One rule per column of `drglogic` (FORMAT.md section 5).
COLUMN_RULES = {
    "icd": _icd,
    "mdc": _mdc,
    "dgcat1": _dgcat1,
    "pdgprop": _property("PDGPRO"),
    "procpro1": _property("PROCPR"),
    "secproc1": _property("PROCPR"),
    "dgprop1": _property("DGPROP"),
    "dgprop2": _property("DGPROP"),
    "dgprop3": _property("DGPROP"),
    "dgprop4": _property("DGPROP"),
    "or": _or,
    "agelim": _numeric("age"),
    "dur": _numeric("los"),
    "sex": _sex,
    "disch": _disch,
    "compl": _compl,
}


def compile_rule(row: LogicRow) -> Rule | None:
    """The row as a `Rule`, or None if it can never hold."""
    b = _RuleBuilder()
    for col, op, value in row.cells:
        COLUMN_RULES[col](b, op, value)
    if b.never:
        return None
    age, los, cc = (tuple(b.bounds[k]) for k in ("age", "los", "cc"))
    return Rule(frozenset(b.required), frozenset(b.forbidden), age, los, cc, row)  # type: ignore[arg-type]
