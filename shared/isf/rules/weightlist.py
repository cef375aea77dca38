"""Importer for the directorate's DRG weight lists (CSV or Excel) into the documented weight-list CSV.

The published lists are spreadsheets with Norwegian headings and decimal commas. Their exact
layout changes between years and is not specified anywhere we can read, so columns are found by
heading, not by position: every known spelling of a heading is an alias below, and a list whose
headings match none of them fails with the headings it did find. Output columns (the documented
CSV that `rules.load_weights` reads): drg, name, weight, trim_days, per_day_weight, acute_factor.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

COLUMNS = ("drg", "name", "weight", "trim_days", "per_day_weight", "acute_factor")
ALIASES = {
    "drg": ("drg", "drgkode", "drg kode", "drgnr", "drg nr"),
    "name": ("name", "navn", "drgnavn", "drg navn", "beskrivelse", "tekst", "drg tekst", "drgtekst"),
    "weight": ("weight", "vekt", "kostnadsvekt", "drgvekt", "drg vekt", "refusjonsvekt", "isf vekt", "isfvekt"),
    "trim_days": ("trim_days", "trimpunkt", "ovre trimpunkt", "trimgrense", "trimpunkt dogn", "trim"),
    "per_day_weight": (
        "per_day_weight",
        "vekt per liggedogn over trimpunkt",
        "vekt per overliggedogn",
        "overliggedognsvekt",
        "langliggervekt",
        "vekt per dogn over trimpunkt",
        "dagvekt",
    ),
    "acute_factor": ("acute_factor", "akuttfaktor", "hastefaktor"),
}
REQUIRED = ("drg", "weight")


class WeightListError(ValueError):
    pass


def _norm(heading: str) -> str:
    h = heading.strip().lower().translate(str.maketrans("æøå", "aoa"))
    return re.sub(r"[^a-z0-9]+", " ", h).strip()


def _number(text: str, where: str) -> Decimal:
    t = str(text).strip().replace("\u00a0", "").replace(" ", "")
    if t in ("", "-"):
        return Decimal(0)
    if "," in t:
        t = t.replace(".", "").replace(",", ".")  # Norwegian: 1.234,567
    try:
        return Decimal(t)
    except InvalidOperation as exc:
        raise WeightListError(f"{where}: not a number: {text!r}") from exc


def _rows(path: Path) -> list[list[str]]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            from openpyxl import load_workbook
        except ImportError as exc:
            raise WeightListError("reading Excel needs openpyxl (pip install openpyxl)") from exc
        ws = load_workbook(path, read_only=True, data_only=True).worksheets[0]
        return [["" if v is None else str(v) for v in row] for row in ws.iter_rows(values_only=True)]
    text = path.read_bytes().decode("utf-8-sig", errors="strict") if path.exists() else None
    if text is None:
        raise WeightListError(f"{path}: no such file")
    head = text[:4096]
    # semicolons first: Norwegian spreadsheets export them, with commas as decimal marks
    delimiter = ";" if ";" in head else ("\t" if "\t" in head else ",")
    return [row for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


def _header(rows: list[list[str]], source: str) -> tuple[int, dict[str, int]]:
    """The first row (of the first 20) that names the required columns: title rows come before it."""
    known = {alias: col for col, aliases in ALIASES.items() for alias in aliases}
    for i, row in enumerate(rows[:20]):
        found: dict[str, int] = {}
        for j, cell in enumerate(row):
            col = known.get(_norm(cell))
            if col and col not in found:
                found[col] = j
        if all(c in found for c in REQUIRED):
            return i, found
    seen = [c for row in rows[:5] for c in row if c.strip()]
    raise WeightListError(f"{source}: no heading row with a DRG and a weight column; headings seen: {seen[:20]}")


def import_weight_list(path: Path) -> list[dict[str, str]]:
    """Rows of the documented weight-list CSV, in the list's order; errors name the row and column."""
    path = Path(path)
    rows = _rows(path)
    start, cols = _header(rows, path.name)
    out, seen = [], set()
    for n, row in enumerate(rows[start + 1 :], start=start + 2):

        def cell(c: str, row: list = row) -> str:
            return row[cols[c]].strip() if c in cols and cols[c] < len(row) else ""

        drg = cell("drg").upper()
        if not drg:
            continue  # blank or footnote rows
        if drg in seen:
            raise WeightListError(f"{path.name} row {n}: DRG {drg} listed twice")
        seen.add(drg)
        where = f"{path.name} row {n}"
        weight = _number(cell("weight"), f"{where}, column weight")
        trim = _number(cell("trim_days"), f"{where}, column trim_days")
        per_day = _number(cell("per_day_weight"), f"{where}, column per_day_weight")
        acute = _number(cell("acute_factor"), f"{where}, column acute_factor") if cell("acute_factor") else Decimal(1)
        if weight < 0 or per_day < 0 or trim < 0:
            raise WeightListError(f"{where}: negative weight, trim point or per-day weight")
        if trim != trim.to_integral_value():
            raise WeightListError(f"{where}: trim point {trim} is not a whole number of days")
        out.append(
            {
                "drg": drg,
                "name": cell("name"),
                "weight": str(weight),
                "trim_days": str(int(trim)),
                "per_day_weight": str(per_day),
                "acute_factor": str(acute),
            }
        )
    if not out:
        raise WeightListError(f"{path.name}: a heading row but no DRG rows")
    return out


def write_weights_csv(rows: list[dict[str, str]], target) -> None:
    w = csv.DictWriter(target, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
