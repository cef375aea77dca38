"""Load NordDRG definition data (directorate JSON or a folder of CSV tables), validate it, compile it.

The six tables are `drglogic`, `dg`, `proc`, `complcat`, `complexcl` and `drgnames`,
laid out as in the NordDRG definition data (see README "Definition data"). Broken data
fails loudly with `DefinitionError`, naming the table, the row and the field.
"""
from __future__ import annotations

import csv
import hashlib
import json
import pickle
import re
from dataclasses import dataclass, field
from pathlib import Path

TABLES = ("drglogic", "dg", "proc", "complcat", "complexcl", "drgnames")
KEY_FIELD = {"drglogic": "ord", "dg": "code", "proc": "code", "complcat": "compl",
             "complexcl": "compl", "drgnames": "drg"}
REQUIRED = {
    "drglogic": ("ord", "drg", "rtc"),
    "dg": ("code", "vartype", "varval"),
    "proc": ("code", "vartype", "varval"),
    "complcat": ("compl",),
    "complexcl": ("compl", "code"),
    "drgnames": ("drg",),
}
LOGIC_COLUMNS = ("icd", "mdc", "pdgprop", "or", "procpro1", "dgcat1", "agelim", "compl",
                 "sex", "dgprop1", "dgprop2", "dgprop3", "dgprop4", "secproc1", "disch", "dur")
DG_VARTYPES = {"DGCAT", "MDC", "DGPROP", "PDGPRO", "COMPL", "OR", "PROCPR", "SDGPRO"}
PROC_VARTYPES = {"PROCPR", "DGPROP", "OR", "CC"}
_NUMERIC_OPS = ("agelim", "dur", "compl")


class DefinitionError(ValueError):
    """Definition data that cannot be used: says which table, row and field."""

    def __init__(self, table: str, row: int | None, fieldname: str | None, problem: str):
        where = table + (f" row {row}" if row is not None else "") + (f" field {fieldname!r}" if fieldname else "")
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class LogicRow:
    ord: str
    drg: str
    rtc: str
    cells: tuple[tuple[str, str, str], ...]  # (column, op, value) for every non-empty cell


@dataclass
class Definitions:
    """Compiled definition data: lookups by code, logic rows in scan order."""

    name: str
    logic: list[LogicRow]
    dg: dict[str, dict[str, list[tuple[str, str]]]]  # code -> vartype -> [(d_code, value)] in file order
    proc: dict[str, dict[str, list[str]]]  # code -> vartype -> [value]
    inclusions: list[tuple[str, str]]  # (compl I/J category, activating DGPROP) in file order
    exclusions: set[tuple[str, str]]  # (compl, principal code), rows without d_code
    drg_mdc: dict[str, str]
    logic_by_mdc: dict[str | None, list[LogicRow]] = field(default_factory=dict)

    def rows_for(self, mdc: str | None) -> list[LogicRow]:
        rows = self.logic_by_mdc.get(mdc)
        if rows is None:
            rows = [r for r in self.logic if _row_may_hold_for_mdc(r, mdc)]
            self.logic_by_mdc[mdc] = rows
        return rows

    def known_diagnosis(self, code: str) -> bool:
        return code in self.dg


def _row_may_hold_for_mdc(row: LogicRow, mdc: str | None) -> bool:
    for col, op, value in row.cells:
        if col == "mdc" and value and op != "-":
            return mdc == value
    return True


def split_cell(raw: str) -> tuple[str, str]:
    """A cell is an optional operator from `+ - < > =` then a value."""
    raw = raw.strip()
    if raw and raw[0] in "+-<>=":
        return raw[0], raw[1:].strip()
    return "", raw


# --- reading -------------------------------------------------------------------------

_TRAILING_COMMA = re.compile(r",\s*([\]}])")


def _read_json(path: Path) -> dict[str, list[dict[str, str]]]:
    text = path.read_bytes().decode("utf-8-sig")
    try:
        data = json.loads(_TRAILING_COMMA.sub(r"\1", text), strict=False)
    except json.JSONDecodeError as exc:
        raise DefinitionError(path.name, None, None, f"not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise DefinitionError(path.name, None, None, "expected one JSON object with the six tables")
    return data


def _read_csv_folder(folder: Path) -> dict[str, list[dict[str, str]]]:
    data = {}
    for table in TABLES:
        path = folder / f"{table}.csv"
        if not path.exists():
            raise DefinitionError(table, None, None, f"missing file {path}")
        with path.open(encoding="utf-8-sig", newline="") as fh:
            data[table] = list(csv.DictReader(fh))
    return data


def read_raw(source: Path) -> dict[str, list[dict[str, str]]]:
    """Raw tables from a directorate JSON file, a .zip holding one, or a folder of CSVs."""
    source = Path(source)
    if source.is_dir():
        return _read_csv_folder(source)
    if source.suffix == ".zip":
        import zipfile
        import tempfile
        with zipfile.ZipFile(source) as zf:
            names = [n for n in zf.namelist() if n.lower().endswith(".json")]
            if len(names) != 1:
                raise DefinitionError(source.name, None, None, "zip must hold exactly one JSON file")
            with tempfile.TemporaryDirectory() as tmp:
                return _read_json(Path(zf.extract(names[0], tmp)))
    if not source.exists():
        raise DefinitionError(str(source), None, None, "no such file or folder")
    return _read_json(source)


# --- validating and compiling ----------------------------------------------------------

def _clean_rows(data: dict, table: str) -> list[tuple[int, dict[str, str]]]:
    rows = data.get(table)
    if rows is None:
        raise DefinitionError(table, None, None, "table missing")
    out = []
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise DefinitionError(table, i, None, "row is not an object")
        clean = {}
        for k, v in row.items():
            if v is None:
                v = ""
            if not isinstance(v, str):
                raise DefinitionError(table, i, k, f"expected a string, got {type(v).__name__}")
            clean[k.strip()] = v.strip()
        if not clean.get(KEY_FIELD[table]):
            continue  # rows without a key are skipped, as the reference does
        for req in REQUIRED[table]:
            if req not in clean:
                raise DefinitionError(table, i, req, "column missing")
        out.append((i, clean))
    return out


def compile_definitions(data: dict, name: str = "definitions") -> Definitions:
    logic: list[LogicRow] = []
    seen_ord: set[str] = set()
    for i, row in _clean_rows(data, "drglogic"):
        if row["ord"] in seen_ord:
            raise DefinitionError("drglogic", i, "ord", f"duplicate ord {row['ord']!r}")
        seen_ord.add(row["ord"])
        if not row["drg"]:
            raise DefinitionError("drglogic", i, "drg", "empty DRG")
        cells = []
        for col in LOGIC_COLUMNS:
            raw = row.get(col, "")
            if not raw:
                continue
            op, value = split_cell(raw)
            if col in _NUMERIC_OPS and value and not value.lstrip("-").isdigit():
                raise DefinitionError("drglogic", i, col, f"expected a number after the operator, got {raw!r}")
            cells.append((col, op, value))
        logic.append(LogicRow(row["ord"], row["drg"], row["rtc"], tuple(cells)))

    dg: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for i, row in _clean_rows(data, "dg"):
        if row["vartype"] not in DG_VARTYPES:
            raise DefinitionError("dg", i, "vartype", f"unknown vartype {row['vartype']!r}")
        dg.setdefault(row["code"], {}).setdefault(row["vartype"], []).append((row.get("d_code", ""), row["varval"]))

    proc: dict[str, dict[str, list[str]]] = {}
    for i, row in _clean_rows(data, "proc"):
        if row["vartype"] not in PROC_VARTYPES:
            raise DefinitionError("proc", i, "vartype", f"unknown vartype {row['vartype']!r}")
        if row["vartype"] == "CC" and not row["varval"].isdigit():
            raise DefinitionError("proc", i, "varval", f"CC must be an integer, got {row['varval']!r}")
        proc.setdefault(row["code"], {}).setdefault(row["vartype"], []).append(row["varval"])

    inclusions = [(row["compl"], row["inclprop"]) for _, row in _clean_rows(data, "complcat")
                  if row.get("inclprop") and len(row["compl"]) >= 3 and row["compl"][2] in "IJ"]
    exclusions = {(row["compl"], row["code"]) for _, row in _clean_rows(data, "complexcl") if not row.get("d_code")}
    drg_mdc: dict[str, str] = {}
    for _, row in _clean_rows(data, "drgnames"):
        drg_mdc.setdefault(row["drg"], row.get("mdc", ""))
    return Definitions(name, logic, dg, proc, inclusions, exclusions, drg_mdc)


_CACHE_DIR = Path.home() / ".cache" / "isf-stream" / "definitions"
_MEMO: dict[str, Definitions] = {}


def load_definitions(source: str | Path) -> Definitions:
    """Load, validate and compile once; the compiled form is cached on disk by content hash."""
    source = Path(source).resolve()
    digest = _content_digest(source)
    if digest in _MEMO:
        return _MEMO[digest]
    cache = _CACHE_DIR / f"{digest}.pickle"
    defs = None
    if cache.exists():
        try:
            defs = pickle.loads(cache.read_bytes())
        except Exception:  # a stale or broken cache is rebuilt, never trusted
            defs = None
    if defs is None:
        defs = compile_definitions(read_raw(source), name=source.name)
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_bytes(pickle.dumps(defs, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            pass
    _MEMO[digest] = defs
    return defs


def _content_digest(source: Path) -> str:
    h = hashlib.sha256(b"isf-defs-v1")
    files = sorted(source.glob("*.csv")) if source.is_dir() else [source]
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:32]
