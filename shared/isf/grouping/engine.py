"""The NordDRG engine: derive case features, then take the first `drglogic` row whose tests all hold."""

from __future__ import annotations

from typing import NamedTuple

from .features import Features, GroupingCase, derive
from .logic import LogicRow
from .tables import Definitions


class DrgResult(NamedTuple):
    drg: str | None
    ord: str | None
    rtc: str | None
    mdc: str | None  # MDC of the resulting DRG (drgnames), may be None
    explanation: dict
    is_error: bool  # no DRG, or a return code the definition set does not count as fine (`Definitions.fine_rtcs`)
    cc: int = 0  # the case's complication level (`Features.cc_level`)


OK_RTC = frozenset({"0", "A"})  # the fine return codes of the old format (a set of today's says its own)


def is_error(drg: str | None, rtc: str | None, fine: frozenset[str] = OK_RTC) -> bool:
    """An error group: no DRG, or a return code the definition set does not count as fine."""
    return drg is None or rtc not in fine


_tuple = tuple.__new__  # a NamedTuple built positionally, without its Python-level constructor
# What a return code means when the tables do not say (the old format; FORMAT.md Q7): inferred from the rows
# that carry them. A set in today's format brings its own texts (`Definitions.rtc_texts`).
RTC_REASONS = {
    "1": "no usable principal diagnosis",
    "4": "age too low for the principal diagnosis",
    "5": "age too high for the principal diagnosis",
    "6": "age over 125 years",
    "7": "OR procedure unrelated to the principal diagnosis",
    "8": "cannot be grouped",
    "9": "code error (a procedure or diagnosis the tables do not accept here)",
}
# Which code a return code is about when it is not the principal diagnosis (the coding feedback names it).
RTC_SUBJECT = {"7": "procedure"}


def first_rule(defs: Definitions, case: GroupingCase, f: Features) -> LogicRow | None:
    """The first logic row, in file order, whose tests all hold for the case."""
    facts, age, los, cc = f.facts, case.age_days, case.los_days, f.cc_level
    rules = defs.rules
    for i in defs.candidates(facts):
        r = rules[i]
        if (
            r.required <= facts
            and r.forbidden.isdisjoint(facts)
            and r.age[0] < age < r.age[1]
            and r.los[0] < los < r.los[1]
            and r.cc[0] < cc < r.cc[1]
        ):
            return r.row
    return None


def group_case(defs: Definitions, case: GroupingCase, explain: bool = True) -> DrgResult:
    f = derive(defs, case, explain)
    principal = case.pairs[0][0] if case.pairs else ""
    # A principal code that the tables do not know is a coding error (rtc 9), not merely a
    # missing principal (rtc 1): this is what the reference's golden cases 45 and 59 expect,
    # although the logic row itself carries rtc 1 (FORMAT.md Q7).
    unknown = bool(principal) and principal not in defs.dg  # `defs.known_diagnosis`, without a call
    row = first_rule(defs, case, f)
    if row is None:
        return DrgResult(
            None,
            None,
            None,
            None,
            {**_explain(None, f), "reason": "no drglogic row holds"} if explain else {},
            True,
            f.cc_level,
        )
    fine = defs.fine_rtcs
    rtc = row.rtc
    if unknown and rtc not in fine and defs.unknown_principal_rtc:
        rtc = defs.unknown_principal_rtc
    expl = _explain(row, f) if explain else {}
    if explain and unknown:
        expl["reason"] = f"unknown principal diagnosis code {principal}"
    elif explain and rtc not in fine:
        texts = defs.rtc_texts or RTC_REASONS
        expl["reason"] = texts.get(rtc) or f"return code {rtc}"
    return _tuple(
        DrgResult, (row.drg, row.ord, rtc, defs.drg_mdc.get(row.drg) or None, expl, rtc not in fine, f.cc_level)
    )


def _explain(row: LogicRow | None, f: Features) -> dict:
    """Which rule fired, with which tests, and which code gave each property of the case."""
    return {
        "rule": None
        if row is None
        else {
            "ord": row.ord,
            "drg": row.drg,
            "rtc": row.rtc,
            "tests": [f"{col}={op}{value}" for col, op, value in row.cells],
        },
        "mdc": f.mdc,
        "dgcat": f.dgcat,
        "cc_level": f.cc_level,
        "properties": dict(sorted(f.sources.items())),
        "complications": {k: {"active": a, "level": lvl} for k, (a, lvl) in sorted(f.complications.items())},
    }
