"""`GET /api/coding`: the coding feedback of a rule year (`isf.coding.document`) from the settled totals, scoped
by role (`isf.access` kind `coding`: an HF sees its own episodes in error DRGs with their source ids, a region the
rates, CMI and drift of its own HFs), as JSON or CSV."""

from __future__ import annotations

from isf.access import Role, scope
from isf.coding import document, table
from isf.settlement.export import csv_of
from services.common import names

from .api import ApiError, _view, _year


def coding_rows(r) -> list[tuple[str, int, int]]:
    """The totals of the coding feedback (`C|...`) alone, by a scan of the totals hashes for that prefix."""
    pts = {_text(k): int(v) for k, v in r.hscan_iter(names.POINTS_TOTALS, match="C|*", count=1000)}
    cnt = {_text(k): int(v) for k, v in r.hscan_iter(names.COUNT_TOTALS, match="C|*", count=1000)}
    rows = [(k, pts.get(k, 0), cnt.get(k, 0)) for k in sorted(set(pts) | set(cnt))]
    return [row for row in rows if row[1] or row[2]]


def _text(v) -> str:
    return v.decode() if isinstance(v, bytes) else v


def coding(r, role: Role, year: str | None = None, fmt: str = "json"):
    if fmt not in ("json", "csv"):
        raise ApiError(400, f"format must be json or csv, got {fmt!r}")
    y = _year(_view(r), year)
    doc = scope(document(coding_rows(r), int(y)), "coding", role)
    if fmt == "csv":
        return "text/csv; charset=utf-8", csv_of(table(doc)).encode("utf-8")
    return "application/json", doc
