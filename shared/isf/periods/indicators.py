"""What a grouped activity contributes to the RBF indicators 1-9, per HF, tertial and year.

Stat keys: `I|year|hf|<indicator>|num` and `I|year|hf|<indicator>|den` for counted
indicators (1, 9); unique patients `I|year|hf|<indicator>|num` and shared denominators
`I|year|hf|patients|<population>`. Indicators 1-8 take only activity that counts in ISF (seed 002,
appendix: "kun tellende ISF-opphold"); indicator 1 counts outpatient consultations, i.e. episodes
grouped to a DRG of the service type "polikliniske konsultasjoner" (the rule year's
`service_types.csv`). Indicator 9 is NKI data; the count kept here (every inpatient discharge,
somatic, PHV and TSB, whatever its debtor) is only its fallback where no NKI value is given.
"""

from __future__ import annotations

from datetime import timedelta

from ..events import Delta
from ..grouping.activity import Grouped
from ..rules import rule_year
from .calendar import label, score
from .ledger import Contributions, Unit, contributions

NAMESPACE = "ind"

# Indicators over unique patients: (id, population, how an activity qualifies for the numerator)
UNIQUE = (
    ("2", "phv_tsb", {"stg": {"TS08A", "TS08B"}}),
    ("3", "somatic", {"stg": {"XS08"}}),
    ("4", "phv_tsb", {"stg": {"TS01"}}),
    ("5", "somatic", {"stg": {"XS09"}}),
    ("6", "all", {"procedure": {"WMGA28"}}),
    ("7", "all", {"procedure": {"IEAB20"}}),
    ("8", "somatic", {"stg": {"CS11", "ES11", "HS11", "JS11", "XS11"}}),
)
POPULATION_OF = {i: pop for i, pop, _ in UNIQUE}
REMOTE_MODES = {"video", "phone"}
CONSULTATION = "outpatient_consultation"
SUMMARY_WITHIN = timedelta(days=1)


def _population(g: Grouped) -> tuple[str, ...]:
    sector = g.activity.sector if g.activity.kind == "episode" else "somatic"
    return ("all", "phv_tsb" if sector in ("phv", "tsb") else "somatic")


def _qualifies(g: Grouped, test: dict, procedures: frozenset[str]) -> bool:
    if "stg" in test:
        return g.stg in test["stg"]
    return bool(test["procedure"] & procedures)


def indicator_contributions(g: Grouped) -> Contributions:
    if not g.counts:
        return Contributions()
    a, y = g.activity, g.rule_year
    assert a.end is not None  # grouped under a rule year: it has ended
    end = a.end
    day = end.date()
    sc = score(day)
    base = f"I|{y}|{a.hf}"
    # the statistics this activity counts in, the same for its tertial and its year
    unique: list[str] = []
    counted: list[str] = []
    if g.isf_liable:
        pops = _population(g)
        unique += [f"{base}|patients|{pop}" for pop in pops]
        procedures = frozenset(a.procedures)
        unique += [f"{base}|{ind}|num" for ind, pop, test in UNIQUE if pop in pops and _qualifies(g, test, procedures)]
        if rule_year(y).service_types.get(g.drg or "") == CONSULTATION:
            counted.append(f"{base}|1|den")
            if a.contact_mode in REMOTE_MODES:
                counted.append(f"{base}|1|num")
    if a.kind == "episode" and a.care_level == "inpatient":
        counted.append(f"{base}|9|den")
        sent = a.discharge_summary_sent_at
        if sent is not None and sent - end <= SUMMARY_WITHIN:
            counted.append(f"{base}|9|num")
    items: list[Delta] = []
    units: list[tuple[Unit, int]] = []
    for period in (label("tertial", day), label("year", day)):
        units += [(Unit(stat, a.patient, period, stat), sc) for stat in unique]
        items += [Delta(stat, period, 0, 1) for stat in counted]
    return contributions(items, units)
