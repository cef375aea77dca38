"""Point supplements (`supplements` in params.json): the supplement and its exceptions, their criteria declared
one per field, and the reading of them from params.json.

A supplement is earned per DRG episode the grouper found ISF-financed (`isf.periods.points.supplements_of`). A
field left out means "any"; a given field holds when its criterion (`SUPPLEMENT_CRITERIA`) holds for the episode,
and the supplement holds when every given field does. An exception covers an activity when every given field of
it holds (`EXCEPTION_CRITERIA`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any

from ..events import Activity
from .cells import RuleError, filled, icd


@dataclass(frozen=True)
class SupplementException:
    """Activity a point supplement leaves out (`exceptions` of a supplement in params.json): activity that
    carries one of the ATC codes (by prefix), special codes or procedures, of a patient who turns less
    than `age_in_year_below` in the activity's year when that is given."""

    name: str
    atc: tuple[str, ...] = ()
    special_codes: frozenset[str] = frozenset()
    procedures: frozenset[str] = frozenset()
    age_in_year_below: int | None = None

    @property
    def codes(self) -> tuple:
        """The ATC prefixes, special codes and procedures together; () when it names none."""
        return (
            (self.atc, self.special_codes, self.procedures) if self.atc or self.special_codes or self.procedures else ()
        )


@dataclass(frozen=True)
class Supplement:
    """A point supplement (`supplements` in params.json), earned per qualifying DRG episode as its own
    stat (system `SUPP`, code = `code`), so it shows apart from the DRG points. Conditions: sector,
    care level, a main or secondary condition starting with one of `conditions`, an age limit (the age
    the patient turns in the activity's calendar year is below `age_in_year_below`), and none of its
    `exceptions` covers the activity."""

    code: str
    name: str
    points: Decimal
    sectors: frozenset[str]
    care_levels: frozenset[str] = frozenset()
    conditions: tuple[str, ...] = ()
    age_in_year_below: int | None = None
    per_day: bool = False  # points per day of stay (at least one) instead of per episode
    exceptions: tuple[SupplementException, ...] = ()  # activity that earns no supplement

    @cached_property
    def checks(self) -> tuple[tuple[Callable[[Any, Activity], bool], Any], ...]:
        """The criteria of its given fields (`SUPPLEMENT_CRITERIA`), each with the field's value."""
        return tuple((c.holds, v) for c in SUPPLEMENT_CRITERIA if filled(v := getattr(self, c.field)))

    def points_for(self, days: int) -> Decimal:
        """What one episode of `days` days of stay earns: the points, per day (at least one) when `per_day`."""
        return self.points * max(1, days) if self.per_day else self.points


def age_in_year(a: Activity) -> int | None:
    """The age the patient turns in the calendar year the activity ends (from the age at its start)."""
    if a.age_days is None or a.start is None or a.end is None:
        return None
    return a.end.year - (a.start.date() - timedelta(days=a.age_days)).year


@dataclass(frozen=True)
class FieldCriterion:
    """What one given field of a supplement (or of one of its exceptions) asks of an activity."""

    fact: str  # the criterion in the domain's words
    field: str  # the field of the supplement (or exception) in params.json it reads
    holds: Callable[[Any, Activity], bool]  # (the field's value, the activity) -> holds


def _under(limit: int, a: Activity) -> bool:
    age = age_in_year(a)
    return age is not None and age < limit


def _carries(codes: tuple, a: Activity) -> bool:
    atc, special_codes, procedures = codes
    return (
        any(c.startswith(atc) for c in a.atc_codes)
        or not special_codes.isdisjoint(a.special_codes)
        or not procedures.isdisjoint(a.procedures)
    )


EXCEPTION_CRITERIA: tuple[FieldCriterion, ...] = (
    FieldCriterion(
        "the activity carries one of the exception's ATC prefixes, special codes or procedures", "codes", _carries
    ),
    FieldCriterion(
        "the patient turns less than the exception's age limit in the activity's year", "age_in_year_below", _under
    ),
)


def exception_covers(x: SupplementException, a: Activity) -> bool:
    """Whether the activity is one the supplement leaves out: every given field of the exception holds."""
    return all(c.holds(v, a) for c in EXCEPTION_CRITERIA if filled(v := getattr(x, c.field)))


SUPPLEMENT_CRITERIA: tuple[FieldCriterion, ...] = (
    FieldCriterion("the episode is of one of the supplement's sectors", "sectors", lambda v, a: a.sector in v),
    FieldCriterion("the episode is of one of its care levels", "care_levels", lambda v, a: a.care_level in v),
    FieldCriterion(
        "a main or secondary condition starts with one of its codes",
        "conditions",
        lambda v, a: any(c.replace(".", "").upper().startswith(v) for c in (a.main_condition, *a.secondary_conditions)),
    ),
    FieldCriterion("the patient turns less than its age limit in the activity's year", "age_in_year_below", _under),
    FieldCriterion(
        "none of its exceptions covers the activity",
        "exceptions",
        lambda v, a: not any(exception_covers(x, a) for x in v),
    ),
)


def supplement_holds(s: Supplement, a: Activity) -> bool:
    """Whether an episode meets every given field of the supplement (a supplement is only ever earned by an
    episode: a prescription earns none)."""
    if a.kind != "episode":
        return False
    for check, v in s.checks:
        if not check(v, a):
            return False
    return True


def _exceptions(s: dict, where: str) -> tuple[SupplementException, ...]:
    out = tuple(
        SupplementException(
            x["name"],
            tuple(x.get("atc", ())),
            frozenset(x.get("special_codes", ())),
            frozenset(x.get("procedures", ())),
            x.get("age_in_year_below"),
        )
        for x in s.get("exceptions", ())
    )
    if any(not x.codes for x in out):
        raise RuleError(f"{where}: an exception names no ATC code, special code or procedure")
    return out


def parse_supplements(p: dict) -> tuple[Supplement, ...]:
    """params.json's `supplements`: every supplement names at least one sector and its codes are unique."""
    out = []
    for s in p.get("supplements", ()):
        where = f"params.json supplement {s['code']}"
        if not s["sectors"]:
            raise RuleError(f"{where}: names no sector")
        out.append(
            Supplement(
                s["code"],
                s["name"],
                Decimal(s["points"]),
                frozenset(s["sectors"]),
                frozenset(s.get("care_levels", ())),
                icd(s.get("conditions", ())),
                s.get("age_in_year_below"),
                bool(s.get("per_day", False)),
                _exceptions(s, where),
            )
        )
    codes = [s.code for s in out]
    if len(set(codes)) != len(codes):
        raise RuleError(f"params.json: supplement codes repeat: {codes}")
    return tuple(out)
