"""From an ingested episode (`Activity`) to the grouper's case: age, stay, care level, markers.

The NordDRG grouping string has no care level, sector or urgency. We pass them as marker
procedure codes that the project's definition sets give properties to (official data does
not know them, so they add nothing there):
`ZZCD` day treatment, `ZZCO` outpatient contact, `ZZSP` PHV, `ZZST` TSB, `ZZHA` acute.
Discharge mode is `H` (home): the event contract carries no death or transfer field.
"""

from __future__ import annotations

from ..events import Activity
from .features import GroupingCase

CARE_MARKERS = {"day": "ZZCD", "outpatient": "ZZCO"}
SECTOR_MARKERS = {"phv": "ZZSP", "tsb": "ZZST"}
ACUTE_MARKER = "ZZHA"


def length_of_stay(a: Activity) -> int:
    """Days between admission and discharge dates for inpatient stays; 0 for day and outpatient care."""
    if a.care_level != "inpatient" or a.start is None or a.end is None:
        return 0
    return (a.end.date() - a.start.date()).days


def to_case(a: Activity) -> GroupingCase:
    markers = [
        m
        for m in (
            CARE_MARKERS.get(a.care_level),
            SECTOR_MARKERS.get(a.sector),
            ACUTE_MARKER if a.urgency == "acute" else None,
        )
        if m
    ]
    # ICD-10 codes as the tables write them: no dot, upper case; pair 2 is kept even when empty
    pairs = [(c.replace(".", "").upper(), "") for c in (a.main_condition, *a.secondary_conditions)]
    if len(pairs) == 1:
        pairs.append(("", ""))
    return GroupingCase(
        sex=a.sex if a.sex in ("M", "F") else "U",
        age_days=a.age_days or 0,
        discharge="H",
        los_days=length_of_stay(a),
        pairs=tuple(pairs),
        procedures=(*a.procedures, *markers),
    )
