"""Statements as the files finance departments open: CSV (semicolon, decimal comma) and Excel. A text cell that
a spreadsheet would read as a formula (it begins with =, +, -, @, a tab or a CR) is written with a leading `'`."""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation
from typing import Iterable

from .statements import table

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(v: str):
    """A number as a Decimal; any other value as it is, but text never as a formula."""
    try:
        d = Decimal(v) if v not in ("", None) else None
    except (InvalidOperation, TypeError):
        d = None
    if d is not None and d.is_finite():
        return d
    return "'" + v if isinstance(v, str) and v.startswith(FORMULA_START) else v


def to_csv(doc: dict) -> str:
    """Semicolon-separated with decimal commas, as Norwegian Excel opens it without an import dialog."""
    return csv_of(table(doc))


def csv_of(rows: Iterable[list]) -> str:
    """Rows of text cells as `to_csv` writes them (numbers with decimal commas)."""
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for row in rows:
        w.writerow([str(v).replace(".", ",") if isinstance(c := _cell(v), Decimal) else c for v in row])
    return "\ufeff" + out.getvalue()


def to_xlsx(doc: dict) -> bytes:
    """One sheet, numbers stored as numbers (Decimal converted at the last step, for Excel's sake)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = f"{doc.get('kind', 'statement')} {doc.get('year', '')}".strip()[:31]
    for row in table(doc):
        ws.append([float(c) if isinstance(c := _cell(v), Decimal) else c for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
