"""What a grouped activity contributes to the RBF indicators 1-9, per HF, tertial and year.

Stat keys: `I|year|hf|<indicator>|num` and `I|year|hf|<indicator>|den` for counted indicators (1, 9); unique
patients `I|year|hf|<indicator>|num` and shared denominators `I|year|hf|patients|<population>[+indirect]`
(`isf.rules.UniqueIndicator`, the rule year's `rbf_indicators`). Indicators 1-8 take only ISF-counting activity
(seed 002, appendix: "Kun tellende ISF-opphold"): a debtor inside ISF, financed by ISF (no PHV/TSB inpatient
stay), no H-resept dispensing, and no indirect activity unless the indicator takes it. Indicator 1 counts
outpatient consultations, i.e. episodes grouped to a DRG of the service type "polikliniske konsultasjoner" (the
rule year's `service_types.csv`). Indicator 9 is NKI data; the count kept here (every inpatient discharge,
somatic, PHV and TSB, whatever its debtor or financing) is only its fallback where no NKI value is given: a
summary sent by the end of the calendar day after discharge counts ("innen 1 dag", in days, not 24 hours).
"""

from __future__ import annotations

from ..events import Delta
from ..grouping.activity import Grouped
from ..rules import UniqueIndicator, rule_year
from ..stats import IndicatorStat
from .calendar import label, score
from .ledger import Contributions, Unit, contributions

NAMESPACE = "ind"

REMOTE_MODES = {"video", "phone"}
CONSULTATION = "outpatient_consultation"
SUMMARY_WITHIN_DAYS = 1


def _populations(g: Grouped) -> tuple[str, str]:
    return ("all", "phv_tsb" if g.activity.sector in ("phv", "tsb") else "somatic")


def _qualifies(ind: UniqueIndicator, g: Grouped, procedures: frozenset[str]) -> bool:
    return g.stg in ind.stgs or bool(ind.procedures & procedures)


def summary_in_time(g: Grouped) -> bool:
    """Indicator 9's fallback: the discharge summary sent within 1 calendar day of the discharge."""
    a = g.activity
    sent = a.discharge_summary_sent_at
    return sent is not None and a.end is not None and (sent.date() - a.end.date()).days <= SUMMARY_WITHIN_DAYS


def indicator_contributions(g: Grouped) -> Contributions:
    if not g.counts:
        return Contributions()
    a, y = g.activity, g.rule_year
    assert a.end is not None and y is not None  # grouped under a rule year: it has ended
    rules = rule_year(y)
    end = a.end
    day = end.date()
    sc = score(day)

    def stat(name: str) -> str:
        return str(IndicatorStat(y, a.hf, name))

    # the statistics this activity counts in, the same for its tertial and its year
    unique: list[str] = []
    counted: list[str] = []
    if g.isf_financed and a.kind == "episode":
        indirect = a.care_level == "indirect"
        pops = _populations(g)
        procedures = frozenset(a.procedures)
        for ind in rules.indicators:
            if ind.population in pops and (ind.indirect or not indirect):
                unique.append(stat(ind.denominator))
                if _qualifies(ind, g, procedures):
                    unique.append(stat(f"{ind.id}|num"))
        unique = list(dict.fromkeys(unique))  # one membership per shared denominator
        if rules.service_types.get(g.drg or "") == CONSULTATION:
            counted.append(stat("1|den"))
            if a.contact_mode in REMOTE_MODES:
                counted.append(stat("1|num"))
    if a.kind == "episode" and a.care_level == "inpatient":
        counted.append(stat("9|den"))
        if summary_in_time(g):
            counted.append(stat("9|num"))
    items: list[Delta] = []
    units: list[tuple[Unit, int]] = []
    for period in (label("tertial", day), label("year", day)):
        units += [(Unit(stat, a.patient, period, stat), sc) for stat in unique]
        items += [Delta(stat, period, 0, 1) for stat in counted]
    return contributions(items, units)
