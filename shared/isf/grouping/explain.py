"""One episode's grouping explained for the person who coded it: the logic rows tried in order and why each
did not hold, the row that matched, the complication level and the code that gave it, and the DRG (with its
weight) the case would have had at the other complication level."""

from __future__ import annotations

from ..events import Activity
from ..rules import rule_year
from .engine import group_case
from .features import Features, derive
from .logic import TAG, Rule
from .mapping import to_case
from .tables import Definitions


def _why_not(r: Rule, f: Features, age: int, los: int) -> list[str]:
    """The tests of a rule that do not hold for the case ([] if it holds)."""
    out = [f"needs {fact}" for fact in sorted(r.required - f.facts)]
    out += [f"excludes {fact}" for fact in sorted(r.forbidden & f.facts)]
    for name, value, (low, high) in (
        ("age in days", age, r.age),
        ("stay in days", los, r.los),
        ("CC", f.cc_level, r.cc),
    ):
        if not low < value < high:
            out.append(f"{name} {value} outside ({low}, {high})")
    return out


def _at_cc(f: Features, cc: int) -> Features:
    facts = {x for x in f.facts if not x.startswith(TAG["cc"])} | {TAG["cc"] + str(cc)}
    return f._replace(facts=facts, cc_level=cc)


def _first(defs: Definitions, f: Features, age: int, los: int) -> Rule | None:
    for i in defs.candidates(f.facts):
        if not _why_not(defs.rules[i], f, age, los):
            return defs.rules[i]
    return None


def explain(a: Activity, year: int) -> dict:
    rules = rule_year(year)
    defs = rules.definitions
    case = to_case(a)
    f = derive(defs, case, explain=True)
    result = group_case(defs, case, explain=True)
    path = []
    for i in defs.candidates(f.facts):
        r = defs.rules[i]
        failed = _why_not(r, f, case.age_days, case.los_days)
        tests = [f"{col}={op}{value}" for col, op, value in r.row.cells]
        path.append(
            {
                "ord": r.row.ord,
                "drg": r.row.drg,
                "rtc": r.row.rtc,
                "tests": tests,
                "holds": not failed,
                "failed": failed,
            }
        )
        if not failed:
            break
    givers = {
        value: f.sources.get(f"COMPL:{value}")
        for value, (active, level) in f.complications.items()
        if active and level == f.cc_level
    }
    for code in case.procedures:  # a procedure may carry a CC level of its own
        p = defs.procedures.get(code)
        if f.cc_level and p is not None and p.cc == f.cc_level:
            givers.setdefault(f"procedure {code}", code)
    other = None
    for level in [0] if f.cc_level > 0 else sorted({lvl for _a, lvl in f.complications.values()} | {1, 2, 3}):
        alt = _first(defs, _at_cc(f, level), case.age_days, case.los_days)
        if alt is not None and alt.row.drg != result.drg:
            w = rules.weights.get(alt.row.drg)
            other = {"cc_level": level, "drg": alt.row.drg, "weight": str(w.weight) if w is not None else None}
            break
    w = rules.weights.get(result.drg) if result.drg else None
    return {
        "year": year,
        "drg": result.drg,
        "rtc": result.rtc,
        "weight": str(w.weight) if w is not None else None,
        "reason": result.explanation.get("reason"),
        "logic_path": path,
        "properties": result.explanation.get("properties"),
        "cc_level": f.cc_level,
        "cc_from": givers,
        "complications": result.explanation.get("complications"),
        "other_cc_level": other,
    }
