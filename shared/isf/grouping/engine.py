"""The NordDRG engine: derive case features, then take the first `drglogic` row whose tests all hold."""
from __future__ import annotations

from dataclasses import dataclass

from .features import Features, GroupingCase, derive
from .tables import Definitions, LogicRow


@dataclass(frozen=True)
class DrgResult:
    drg: str | None
    ord: str | None
    rtc: str | None
    mdc: str | None  # MDC of the resulting DRG (drgnames), may be None
    explanation: dict

    @property
    def is_error(self) -> bool:
        return self.drg is None or self.rtc not in ("0", "A")


def _numeric(op: str, value: str, actual: int) -> bool:
    if op == "<":
        return actual < int(value)
    if op == ">":
        return actual > int(value)
    return True


def _in_set(op: str, value: str, have: set[str]) -> bool:
    if not value:
        return True
    return value not in have if op == "-" else value in have


def _or_test(op: str, value: str, have: set[str]) -> bool:
    letter = value.upper()
    if op in ("", "+") and letter in ("S", "P", "N", "Z"):
        return {"S": "1" in have,
                "P": "1" in have or "2" in have,
                "N": "1" not in have,
                "Z": "1" not in have and "2" not in have}[letter]
    if op == "+" and not value:
        return bool(have)
    if op == "-" and not value:
        return not have
    if op == "-" and letter not in ("S", "P", "N", "Z"):
        return False
    return True


def _disch_test(op: str, value: str, mode: str) -> bool:
    want = value if value in ("E", "N", "H") else "other"
    have = mode if mode in ("E", "N", "H") else "other"
    if op == "-":
        return have != want
    if want == "N":
        return have != "E"
    return have == want


def _cell_holds(col: str, op: str, value: str, case: GroupingCase, f: Features) -> bool:
    if col == "icd":
        if op == "+" and not value:
            return f.valid_principal
        if op == "-" and not value:
            return not f.valid_principal
        return True
    if col == "mdc":
        if not value:
            return True
        return f.mdc != value if op == "-" else f.mdc == value
    if col == "dgcat1":
        if not value:
            return True
        if op == "-":
            return f.dgcat is not None and f.dgcat != value
        return f.dgcat == value
    if col == "pdgprop":
        return _in_set(op, value, f.pdgprop)
    if col in ("procpro1", "secproc1"):
        return _in_set(op, value, f.procpr)
    if col.startswith("dgprop"):
        return _in_set(op, value, f.dgprop)
    if col == "or":
        return _or_test(op, value, f.or_props)
    if col == "agelim":
        return _numeric(op, value, case.age_days)
    if col == "dur":
        return _numeric(op, value, case.los_days)
    if col == "sex":
        if value == "M" and op != "-":
            return case.sex == "M"
        if value == "F" and op != "-":
            return case.sex == "F"
        if op == "-" and not value:
            return case.sex == "U"
        return True
    if col == "disch":
        return _disch_test(op, value, case.discharge)
    if col == "compl":
        n = int(value)
        if op in ("", "+", "="):
            return f.cc_level >= n
        if op == ">":
            return f.cc_level > n
        if op == "<":
            return f.cc_level < n
        return f.cc_level != n  # "-"
    return True


def row_holds(row: LogicRow, case: GroupingCase, f: Features) -> bool:
    for col, op, value in row.cells:
        if not _cell_holds(col, op, value, case, f):
            return False
    return True


CODE_ERROR_RTC = "9"
# What a return code means. The tables do not say (FORMAT.md Q7): inferred from the rows that carry them.
RTC_REASONS = {
    "1": "no usable principal diagnosis",
    "4": "age too low for the principal diagnosis",
    "5": "age too high for the principal diagnosis",
    "6": "age over 125 years",
    "7": "OR procedure unrelated to the principal diagnosis",
    "8": "cannot be grouped",
    "9": "code error (a procedure or diagnosis the tables do not accept here)",
}


def group_case(defs: Definitions, case: GroupingCase, explain: bool = True) -> DrgResult:
    f = derive(defs, case)
    principal = case.pairs[0][0] if case.pairs else ""
    # A principal code that the tables do not know is a coding error (rtc 9), not merely a
    # missing principal (rtc 1): this is what the reference's golden cases 45 and 59 expect,
    # although the logic row itself carries rtc 1 (FORMAT.md Q7).
    unknown = bool(principal) and not defs.known_diagnosis(principal)
    for row in defs.rows_for(f.mdc):
        if row_holds(row, case, f):
            rtc = CODE_ERROR_RTC if unknown and row.rtc not in ("0", "A") else row.rtc
            expl = _explain(row, f) if explain else {}
            if explain and unknown:
                expl["reason"] = f"unknown principal diagnosis code {principal}"
            elif explain and rtc not in ("0", "A"):
                expl["reason"] = RTC_REASONS.get(rtc, f"return code {rtc}")
            return DrgResult(row.drg, row.ord, rtc, defs.drg_mdc.get(row.drg) or None, expl)
    return DrgResult(None, None, None, None,
                     {**_explain(None, f), "reason": "no drglogic row holds"} if explain else {})


def _explain(row: LogicRow | None, f: Features) -> dict:
    """Which rule fired, with which tests, and which code gave each property of the case."""
    return {
        "rule": None if row is None else {
            "ord": row.ord, "drg": row.drg, "rtc": row.rtc,
            "tests": [f"{col}={op}{value}" for col, op, value in row.cells],
        },
        "mdc": f.mdc,
        "dgcat": f.dgcat,
        "cc_level": f.cc_level,
        "properties": dict(sorted(f.sources.items())),
        "complications": {k: {"active": a, "level": lvl} for k, (a, lvl) in sorted(f.complications.items())},
    }
