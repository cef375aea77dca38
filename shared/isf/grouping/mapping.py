"""From an ingested episode (`Activity`) to the grouper's case: age, stay, care level, markers.

The NordDRG grouping string has no care level, sector or urgency. We pass them as marker
procedure codes that the project's definition sets give properties to (official data does
not know them, so they add nothing there):
`ZZCD` day treatment, `ZZCO` outpatient contact, `ZZSP` PHV, `ZZST` TSB, `ZZHA` acute.
Discharge mode is `H` (home): the event contract carries no death or transfer field.
The drugs given (ATC codes) reach the grouper as procedure codes, as NPK reads them: the definition
data can give a drug a property (seed 000, 2026: "L04AC05 Ustekinumab gis egenskap PROCPR 90O10").
"""

from __future__ import annotations

from ..events import Activity
from .features import GroupingCase

CARE_MARKERS = {"day": "ZZCD", "outpatient": "ZZCO"}
SECTOR_MARKERS = {"phv": "ZZSP", "tsb": "ZZST"}
ACUTE_MARKER = "ZZHA"
_case = tuple.__new__


def length_of_stay(a: Activity) -> int:
    """Days between admission and discharge dates for inpatient stays; 0 for day and outpatient care."""
    if a.care_level != "inpatient" or a.start is None or a.end is None:
        return 0
    return (a.end.date() - a.start.date()).days


def to_case(a: Activity) -> GroupingCase:
    """The activity as the engine sees it: sex, age, discharge mode, stay, diagnosis pairs, procedures and markers."""
    procedures = tuple(a.procedures)  # the markers are appended to a copy, never to the activity
    if a.atc_codes:
        procedures += a.atc_codes
    for marker in (CARE_MARKERS.get(a.care_level), SECTOR_MARKERS.get(a.sector)):
        if marker:
            procedures += (marker,)
    if a.urgency == "acute":
        procedures += (ACUTE_MARKER,)
    # ICD-10 codes as the tables write them: no dot, upper case; pair 2 is kept even when empty
    main = (a.main_condition.replace(".", "").upper(), "")
    if a.secondary_conditions:
        pairs = (main, *[(c.replace(".", "").upper(), "") for c in a.secondary_conditions])
    else:
        pairs = (main, ("", ""))
    # positional construction: a NamedTuple's keyword constructor costs a Python-level call per case
    return _case(
        GroupingCase,
        (a.sex if a.sex in ("M", "F") else "U", a.age_days or 0, "H", length_of_stay(a), pairs, procedures),
    )
