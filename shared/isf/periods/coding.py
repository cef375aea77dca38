"""What a grouped episode contributes to the coding feedback (`isf.coding`): items of the points ledger.

Every DRG episode of an ISF debtor counts, per HF, sector and month it ended (stat keys `C|...`,
`isf.stats.CodingStat`): `drg` with its DRG points (count and points sum to the case-mix index), `sq` its points
squared (micro-points² / 10^6: the control band's variance), `cc` when the DRG logic saw a complication level
above 0, and `err|<rtc>|<code>|<source>` when it grouped to an error DRG (`DrgResult.is_error`: no DRG, or a
return code other than 0 and A, as the definitions' own logic rows carry them). The code that failed is the
principal diagnosis, or for a return code about a procedure (`RTC_SUBJECT`) the first procedure with an OR
property. They are items of the points ledger (namespace `pts`), so a corrected episode replaces them like its
points: it leaves the error list the moment it groups cleanly.
"""

from __future__ import annotations

from ..events import Delta
from ..grouping.activity import Grouped
from ..grouping.engine import RTC_SUBJECT, is_error
from ..rules import rule_year
from ..stats import CodingStat
from .calendar import label
from .ledger import Contributions
from .points import micro, point_contributions


def failed_code(g: Grouped) -> str:
    """The code an error DRG's return code is about: a procedure with an OR property, or the principal diagnosis."""
    a = g.activity
    if RTC_SUBJECT.get(g.rtc or "") == "procedure":
        proc = rule_year(g.rule_year).definitions.proc  # type: ignore[arg-type]
        for code in a.procedures:
            if proc.get(code, {}).get("OR"):
                return code
    return a.main_condition.replace(".", "").upper()


def coding_items(g: Grouped) -> list[Delta]:
    """The coding feedback items of a grouped activity: none unless it is a DRG episode of an ISF debtor."""
    a = g.activity
    if not g.isf_liable or a.kind != "episode" or a.care_level == "indirect" or a.end is None:
        return []
    y, month = g.rule_year, label("month", a.end.date())
    assert y is not None  # isf_liable: grouped under a rule year

    def stat(measure: str, detail: str = "") -> str:
        return str(CodingStat(y, a.hf, a.sector, measure, detail))

    pts = micro(g.drg_points)
    items = [Delta(stat("drg"), month, pts, 1)]
    if pts:
        items.append(Delta(stat("sq"), month, (pts * pts + 500_000) // 1_000_000, 0))
    if g.cc > 0:
        items.append(Delta(stat("cc"), month, 0, 1))
    if is_error(g.drg, g.rtc, rule_year(y).definitions.fine_rtcs):
        items.append(Delta(stat("err", f"{g.rtc or '-'}|{failed_code(g)}|{a.source_id}"), month, 0, 1))
    return items


def points_and_coding(g: Grouped) -> Contributions:
    """The points ledger's contributions (`point_contributions`) with the coding feedback's items beside them."""
    c = point_contributions(g)
    extra = coding_items(g)
    return Contributions(c.items + tuple(extra), c.units) if extra else c
