"""Period labels: month `2026-03`, tertial `2026-T1`, year `2026`."""

from __future__ import annotations

import functools
from datetime import date


def tertial_of(year: int | str, month: int) -> str:
    """The tertial label of a month: `2026-T1` January to April, `-T2` May to August, `-T3` September to December.
    The one place the project turns a month into its tertial (the Redis ledger script has its own copy in Lua)."""
    return f"{year}-T{(month - 1) // 4 + 1}"


def label(kind: str, d: date) -> str:
    if kind == "month":
        return f"{d.year}-{d.month:02d}"
    if kind == "tertial":
        return tertial_of(d.year, d.month)
    if kind == "year":
        return str(d.year)
    raise ValueError(f"unknown period kind {kind!r}")


def score(d: date) -> int:
    """Dates as yyyymmdd integers: ordered, and the Redis side can read year and month from them."""
    return d.year * 10000 + d.month * 100 + d.day


def tertial_of_score(s: int) -> str:
    year, month = divmod(s // 100, 100)
    return tertial_of(year, month)


@functools.cache  # asked once per item on the hot path, for a handful of years
def closes_at(year: int, retain_years: int = 1) -> int:
    """Unix time when a rule year's patient-period state may be dropped: 1 January `retain_years`
    after the year that follows it (final settlement of year Y is made during Y+1)."""
    from datetime import datetime, timezone

    return int(datetime(year + 1 + retain_years, 1, 1, tzinfo=timezone.utc).timestamp())


def first_open_year(now: float, retain_years: int = 1) -> int:
    """The earliest rule year whose state is still kept at unix time `now`: older years are closed."""
    from datetime import datetime, timezone

    return datetime.fromtimestamp(now, timezone.utc).year - retain_years


def tertial_of_label(period: str) -> str:
    """The tertial a period label falls in: months and tertials map to their tertial. Year-long units
    are attributed to the tertial of their first activity before they reach here (`Unit.by_first`)."""
    if "-T" in period:
        return period
    y, _, m = period.partition("-")
    if not m:
        raise ValueError(f"period {period!r} is a whole year, not within one tertial")
    return tertial_of(y, int(m))
