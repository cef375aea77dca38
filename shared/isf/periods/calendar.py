"""Period labels: month `2026-03`, tertial `2026-T1`, year `2026`."""
from __future__ import annotations

from datetime import date


def tertial(d: date) -> int:
    return (d.month - 1) // 4 + 1


def label(kind: str, d: date) -> str:
    if kind == "month":
        return f"{d.year}-{d.month:02d}"
    if kind == "tertial":
        return f"{d.year}-T{tertial(d)}"
    if kind == "year":
        return str(d.year)
    raise ValueError(f"unknown period kind {kind!r}")


def score(d: date) -> int:
    """Dates as yyyymmdd integers: ordered, and the Redis side can read year and month from them."""
    return d.year * 10000 + d.month * 100 + d.day


def tertial_of_score(s: int) -> str:
    y, m = divmod(s // 100, 100)
    return f"{y}-T{(m - 1) // 4 + 1}"
