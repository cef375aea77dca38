"""Read today's NordDRG definition tables (one CSV per table, or the workbook) into the six old tables.

The layout is the Nordic Casemix Centre's table format of today (`../shared/norddrg/MODERN-FORMAT.md`):
`drg_logic`, `dg_feat`, `proc_feat`, `compl_excl`, `compl_name`, `dg`, `proc`, `drg_name`, `rtc` and
optionally `testcase`. Reading keeps the rows of the Norwegian version (`nor` in `nat_ver`/`country`),
scans rules by numeric `ord` and reports each by its `id`, gives every Norwegian code the properties of
the plus code it maps to, repairs numbers a spreadsheet export damaged ("1.0" as MDC 01) and skips rows
whose `id` starts with `#` (counted). The result is the old tables (`tables.TABLES`), which the one
compile path turns into the engine's definitions, and a report of what was read. Anything that cannot be
read fails with `DefinitionError` naming the table, the row (as numbered in the file, header = row 1)
and the column.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .errors import DefinitionError

NATION = "nor"
TABLES = ("drg_logic", "dg_feat", "proc_feat", "compl_excl", "compl_name", "dg", "proc", "drg_name", "rtc")
OPTIONAL = ("testcase",)
REQUIRED = {
    "drg_logic": ("ord", "id", "rtc"),
    "dg_feat": ("code_plus", "vartype", "varval"),
    "proc_feat": ("code_plus", "vartype", "varval"),
    "compl_excl": ("varval", "code_plus"),
    "compl_name": ("compl",),
    "dg": ("code_nat", "code_plus"),
    "proc": ("code_nat", "code_plus"),
    "drg_name": (),
    "rtc": ("rtc_code",),
    "testcase": ("id",),
}
# today's drg_logic column -> the old drglogic column the compile path knows
LOGIC_COLUMNS = {
    "icd": "icd",
    "mdc": "mdc",
    "dgcat": "dgcat1",
    "pdgprop": "pdgprop",
    "compl": "compl",
    "or_proc": "or",
    "procpro": "procpro1",
    "secpro": "secproc1",
    "dgprop1": "dgprop1",
    "dgprop2": "dgprop2",
    "dgprop3": "dgprop3",
    "dgprop4": "dgprop4",
    "agelim": "agelim",
    "sex": "sex",
    "dur": "dur",
    "disch": "disch",
}
# property families under today's names -> the old vartype; others are counted in the report, never used
DG_VARTYPES = {
    "DGCAT": "DGCAT",
    "MDC": "MDC",
    "DGPROP": "DGPROP",
    "PDGPROP": "PDGPRO",
    "PDGPRO": "PDGPRO",
    "SDGPROP": "SDGPRO",
    "SDGPRO": "SDGPRO",
    "COMPL": "COMPL",
    "OR": "OR",
    "PROCPR": "PROCPR",
    "PROCPRO": "PROCPR",
}
PROC_VARTYPES = {"PROCPR": "PROCPR", "PROCPRO": "PROCPR", "DGPROP": "DGPROP", "OR": "OR", "CC": "CC"}
# The engine reads sex as M/F; today's tables may write the case's code (1 male, 2 female; an inference).
SEX = {"1": "M", "2": "F"}
# A return code is "fine" (the DRG stands, no coding error) when its text in `rtc` says so. The words are a
# choice made without a Norwegian rtc table at hand; the report lists each code with its text and reading.
FINE_TEXT = re.compile(
    r"\b(ok|normal|normally grouped|no error|no errors|ingen feil|godkjent|i orden|korrekt)\b", re.IGNORECASE
)
OLD_FINE = frozenset({"0", "A"})  # what the 2016 reference treats as fine (FORMAT.md section 2.1)
_FLOAT_INT = re.compile(r"^(\d+)\.0*$")
_LIST = re.compile(r"[/,; ]+")


class Table:
    """One table's rows as dicts with trimmed lower-case column names, each with its row number in the file."""

    def __init__(self, name: str, header: list[str], rows: list[tuple[int, list[str]]]):
        self.name = name
        self.columns = [h.strip().lower() for h in header]
        self.rows = [(n, dict(zip(self.columns, (v.strip() for v in values)))) for n, values in rows]
        for col in REQUIRED.get(name, ()):
            if col not in self.columns:
                raise DefinitionError(name, 1, col, "column missing")

    def national(self, report: dict) -> list[tuple[int, dict[str, str]]]:
        """The Norwegian rows (every row when the table has no `nat_ver` or `country` column)."""
        col = next((c for c in ("nat_ver", "country") if c in self.columns), None)
        if col is None:
            return self.rows
        norwegian: dict[str, bool] = {}  # a table repeats a few lists ("den/fin/nor") many times
        keep = [
            (n, r)
            for n, r in self.rows
            if norwegian.get(r[col]) or norwegian.setdefault(r[col], NATION in _LIST.split(r[col].lower()))
        ]
        if len(keep) < len(self.rows):
            report["other_national_versions"][self.name] = len(self.rows) - len(keep)
        return keep


def _cell_text(v) -> str:
    """A workbook cell as an export would write it (a number 1 stored as a float reads "1.0", repaired later)."""
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _table_name(stem: str, wanted: tuple[str, ...]) -> str | None:
    """`drg_logic`, or a file or sheet named with a prefix such as `NOR2025PR1a_drg_logic`."""
    stem = stem.strip().lower().replace(" ", "_")
    for t in wanted:
        if stem == t or stem.endswith("_" + t):
            return t
    return None


def _assign(found: dict, table: str | None, where: str, value) -> None:
    if table is None:
        return
    if table in found:
        raise DefinitionError(table, None, None, f"given twice ({found[table][0]} and {where})")
    found[table] = (where, value)


def _read_csv(path: Path, table: str) -> Table:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")  # what a Nordic spreadsheet program exports when not told UTF-8
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ("\t" if "\t" in first else ",")
    lines = list(csv.reader(text.splitlines(), delimiter=delimiter))
    if not lines:
        raise DefinitionError(table, None, None, f"{path.name} is empty")
    return Table(table, lines[0], [(i, r) for i, r in enumerate(lines[1:], start=2) if any(x.strip() for x in r)])


def read_tables(source: Path) -> tuple[dict[str, Table], str]:
    """Today's tables from a folder of CSVs or a workbook (.xlsx), by file or sheet name, and the set's version:
    the prefix its CSV files share (`NOR2025PR1a_drg_logic.csv`), the workbook's title, else the file's name."""
    wanted = TABLES + OPTIONAL
    found: dict[str, tuple[str, Table]] = {}
    version = source.stem
    if source.is_dir():
        prefixes = set()
        for path in sorted(source.glob("*.csv")):
            table = _table_name(path.stem, wanted)
            if table is not None:
                _assign(found, table, path.name, _read_csv(path, table))
                prefixes.add(path.stem[: -len(table)].rstrip("_ "))
        if len(prefixes) == 1 and "" not in prefixes:
            version = prefixes.pop()
    else:
        try:
            from openpyxl import load_workbook
        except ImportError as exc:  # pragma: no cover - a dependency of the project
            raise DefinitionError(source.name, None, None, "reading a workbook needs openpyxl") from exc
        try:
            wb = load_workbook(source, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
            raise DefinitionError(source.name, None, None, f"not a readable workbook: {exc}") from exc
        version = wb.properties.title or version
        try:
            for ws in wb.worksheets:
                table = _table_name(ws.title, wanted)
                if table is None:
                    continue
                rows = ws.iter_rows(values_only=True)
                header = [_cell_text(v) for v in next(rows, ())]
                body = [
                    (i, [_cell_text(v) for v in r])
                    for i, r in enumerate(rows, start=2)
                    if any(v is not None and str(v).strip() for v in r)
                ]
                _assign(found, table, f"sheet {ws.title}", Table(table, header, body))
        finally:
            wb.close()
    for t in TABLES:
        if t not in found:
            raise DefinitionError(t, None, None, f"table missing from {source.name}")
    return {t: v for t, (_, v) in found.items()}, version


# --- numbers an export damaged -----------------------------------------------------------------


def _integer(text: str, table: str, row: int, col: str) -> str:
    """ "2.0" -> "2"; "004" stays; anything that is not a whole number fails."""
    m = _FLOAT_INT.match(text)
    if m:
        return str(int(m.group(1)))
    if text.isdigit():
        return text
    raise DefinitionError(table, row, col, f"expected a whole number, got {text!r}")


def _mdc(text: str, table: str, row: int, col: str) -> str:
    """MDC "1.0" or "1" -> "01"; a value with letters (e.g. a pre-MDC name) stays as it is."""
    if not text or not text[0].isdigit():
        return text
    return _integer(text, table, row, col).zfill(2)


def _code(text: str) -> str:
    """A code a spreadsheet read as a number ("75.0") back as text ("75")."""
    if "." not in text:
        return text
    m = _FLOAT_INT.match(text)
    return str(int(m.group(1))) if m else text


def _op_number(text: str, table: str, row: int, col: str) -> str:
    op = text[0] if text[:1] in ("+", "-", "<", ">", "=") else ""
    value = text[len(op) :].strip()
    return op + (_integer(value, table, row, col) if value else "")


def _op_mdc(text: str, table: str, row: int, col: str) -> str:
    op = text[0] if text[:1] in ("+", "-", "=") else ""
    return op + _mdc(text[len(op) :].strip(), table, row, col)


def _sex(text: str, table: str, row: int, col: str) -> str:
    op = text[0] if text[:1] in ("+", "-", "=") else ""
    value = text[len(op) :].strip()
    if value and value[0].isdigit():
        code = _integer(value, table, row, col)
        if code not in SEX:
            raise DefinitionError(table, row, col, f"unknown sex {text!r}")
        value = SEX[code]
    return op + value


_REPAIR = {"mdc": _op_mdc, "compl": _op_number, "agelim": _op_number, "dur": _op_number, "sex": _sex}


def _order_key(text: str, row: int) -> Decimal:
    try:
        key = Decimal(text)
    except InvalidOperation:
        key = Decimal("NaN")
    if not key.is_finite():
        raise DefinitionError("drg_logic", row, "ord", f"expected a number, got {text!r}")
    return key


def _restore_zeros(drg: str, known: dict[int, str]) -> str:
    """A DRG that lost its leading zeros ("4" for "004") takes the spelling `drg_name` gives it, if one."""
    return known.get(int(drg), drg) if drg.isdigit() else drg


# --- translating -------------------------------------------------------------------------------


def _code_map(table: Table, report: dict) -> dict[str, list[str]]:
    """Plus code -> the Norwegian codes that map to it, in table order. A code mapped to two plus codes fails."""
    plus_of: dict[str, str] = {}
    nationals: dict[str, list[str]] = {}
    pair_rows = 0
    for n, r in table.national(report):
        nat, plus = _code(r["code_nat"]), _code(r["code_plus"])
        if not nat:
            continue
        if not plus:
            raise DefinitionError(table.name, n, "code_plus", f"no plus code for {nat}")
        if r.get("d_code_nat"):
            pair_rows += 1  # a mapping of a code pair: the engine maps each code of a pair on its own
            continue
        if plus_of.setdefault(nat, plus) != plus:
            raise DefinitionError(table.name, n, "code_plus", f"{nat} maps to both {plus_of[nat]} and {plus}")
        if nat not in nationals.setdefault(plus, []):
            nationals[plus].append(nat)
    if pair_rows:
        report["pair_mappings_not_used"][table.name] = pair_rows
    report["codes"][table.name] = len(plus_of)
    report["retired_plus_codes"][table.name] = sum(1 for p in nationals if p.startswith("_"))
    return nationals


def _features(
    table: Table, nationals: dict[str, list[str]], vartypes: dict[str, str], report: dict
) -> list[dict[str, str]]:
    """`dg_feat`/`proc_feat` rows as old `dg`/`proc` rows, one per Norwegian code (and pair) of the plus code."""
    out: list[dict[str, str]] = []
    unknown: Counter = Counter()
    unmapped: set[str] = set()
    for n, r in table.national(report):
        plus = _code(r["code_plus"])
        if not plus:
            raise DefinitionError(table.name, n, "code_plus", "empty code")
        raw_vt = r["vartype"].upper()
        vartype = vartypes.get(raw_vt)
        if vartype is None:
            unknown[raw_vt] += 1
            continue
        value = r["varval"]
        if vartype == "MDC":
            value = _mdc(value, table.name, n, "varval")
        elif vartype in ("OR", "CC"):
            value = _integer(value, table.name, n, "varval")
            if vartype == "OR" and value == "0":
                continue  # OR 0 means "not an OR procedure": no property
        elif not value:
            raise DefinitionError(table.name, n, "varval", f"empty {raw_vt} value")
        codes = nationals.get(plus)
        if not codes:
            unmapped.add(plus)
            continue
        d_plus = _code(r.get("d_code_plus", ""))
        d_codes = nationals.get(d_plus, []) if d_plus else [""]
        if not d_codes:
            unmapped.add(d_plus)  # a pair whose dagger no Norwegian code maps to
        for code in codes:
            for d in d_codes:
                out.append({"code": code, "d_code": d, "vartype": vartype, "varval": value})
    if unknown:
        report["property_families_not_used"][table.name] = dict(unknown)
    report["plus_codes_without_norwegian_code"][table.name] = len(unmapped)
    return out


def _fine_rtcs(rows: list[tuple[int, dict[str, str]]], report: dict) -> tuple[frozenset[str], dict[str, str]]:
    texts: dict[str, str] = {}
    for _, r in rows:
        code = _code(r["rtc_code"])
        if code:
            texts[code] = r.get("rtc_text_nat") or r.get("rtc_text_comb") or r.get("rtc_text", "")
    if not texts:
        report["return_codes"] = {"fine": sorted(OLD_FINE), "decided_by": "no rtc rows: 0 and A, as in 2016"}
        return OLD_FINE, texts
    fine = frozenset(c for c, t in texts.items() if c == "0" or FINE_TEXT.search(t))
    report["return_codes"] = {
        "fine": sorted(fine),
        "decided_by": "0, and every code whose rtc text reads as normal grouping (ok, normal, no error, ingen feil)",
        "texts": texts,
    }
    return fine, texts


def translate(tables: dict[str, Table], name: str, version: str = "") -> tuple[dict[str, list[dict[str, str]]], dict]:
    """Today's tables as the six old ones, and the `Definitions` options: return code texts, which codes are fine,
    and a report of what was read."""
    report: dict = {
        "source": name,
        "version": version or name,
        "format": "current",
        "national_version": NATION,
        "other_national_versions": {},
        "disabled_rules": [],
        "codes": {},
        "retired_plus_codes": {},
        "pair_mappings_not_used": {},
        "plus_codes_without_norwegian_code": {},
        "property_families_not_used": {},
    }
    drg_name = tables["drg_name"]
    drg_col = "drg_nat" if "drg_nat" in drg_name.columns else "drg_comb"
    if drg_col not in drg_name.columns:
        raise DefinitionError("drg_name", 1, "drg_nat", "column missing (nor drg_comb)")
    drgnames = []
    for n, r in drg_name.national(report):
        drg = _code(r[drg_col])
        if drg:
            drgnames.append({"drg": drg, "mdc": _mdc(r.get("mdc", ""), "drg_name", n, "mdc")})
    zeros = {int(r["drg"]): r["drg"] for r in drgnames if r["drg"].isdigit() and r["drg"] != str(int(r["drg"]))}

    logic_table = tables["drg_logic"]
    drg_logic_col = "drg_nat" if "drg_nat" in logic_table.columns else "drg_comb"
    if drg_logic_col not in logic_table.columns:
        raise DefinitionError("drg_logic", 1, "drg_nat", "column missing (nor drg_comb)")
    report["unused_logic_columns"] = sorted(
        set(logic_table.columns) - set(LOGIC_COLUMNS) - {"ord", "id", "rtc", "drg_nat", "drg_comb", "nat_ver"}
    )
    keyed = []
    seen: dict[str, int] = {}
    for n, r in logic_table.national(report):
        rule_id = r["id"]
        if not rule_id:
            raise DefinitionError("drg_logic", n, "id", "empty rule id")
        if rule_id.startswith("#"):
            report["disabled_rules"].append(rule_id)
            continue
        if rule_id in seen:
            raise DefinitionError("drg_logic", n, "id", f"rule id {rule_id!r} also on row {seen[rule_id]}")
        seen[rule_id] = n
        drg = _restore_zeros(_code(r[drg_logic_col]), zeros)
        if not drg:
            raise DefinitionError("drg_logic", n, drg_logic_col, "empty DRG")
        row = {"ord": rule_id, "drg": drg, "rtc": _code(r["rtc"])}
        if not row["rtc"]:
            raise DefinitionError("drg_logic", n, "rtc", "empty return code")
        for col, old in LOGIC_COLUMNS.items():
            value = r.get(col, "")
            row[old] = _REPAIR[col](value, "drg_logic", n, col) if value and col in _REPAIR else value
        keyed.append((_order_key(r["ord"], n), n, row))
    keyed.sort(key=lambda k: (k[0], k[1]))
    if not keyed:
        raise DefinitionError("drg_logic", None, "nat_ver", f"no enabled rule for {NATION!r}")
    report["rules"] = len(keyed)

    dg_nat = _code_map(tables["dg"], report)
    proc_nat = _code_map(tables["proc"], report)
    complexcl = []
    for n, r in tables["compl_excl"].national(report):
        compl, plus = r["varval"], _code(r["code_plus"])
        if not compl or not plus:
            raise DefinitionError("compl_excl", n, "varval" if not compl else "code_plus", "empty value")
        d = "+" if r.get("d_code_plus") else ""  # pair exclusions are read but never applied (FORMAT.md Q3)
        complexcl += [{"compl": compl, "code": code, "d_code": d} for code in dg_nat.get(plus, ())]
    compl_name = tables["compl_name"]
    incl_col = compl_name.columns[1] if len(compl_name.columns) > 1 else ""
    complcat = [
        {"compl": r["compl"], "inclprop": r.get(incl_col, "") if incl_col not in ("text", "nat_ver") else ""}
        for _, r in compl_name.national(report)
    ]
    fine, texts = _fine_rtcs(tables["rtc"].national(report), report)
    if "testcase" in tables:
        report["testcases"] = len(tables["testcase"].rows)
    raw = {
        "drglogic": [row for _, _, row in keyed],
        "dg": _features(tables["dg_feat"], dg_nat, DG_VARTYPES, report),
        "proc": _features(tables["proc_feat"], proc_nat, PROC_VARTYPES, report),
        "complcat": complcat,
        "complexcl": complexcl,
        "drgnames": drgnames,
    }
    # The 2016 reference gives 9 for an unknown principal code where the row says otherwise (FORMAT.md Q7);
    # kept only when the set has a return code 9 at all.
    unknown_rtc = "9" if "9" in texts else None
    report["return_codes"]["unknown_principal_rtc"] = unknown_rtc
    return raw, {"report": report, "fine_rtcs": fine, "rtc_texts": texts, "unknown_principal_rtc": unknown_rtc}


def is_current_format(source: Path) -> bool:
    """A workbook, or a folder holding a `drg_logic` CSV."""
    if source.is_dir():
        return any(_table_name(p.stem, ("drg_logic",)) for p in source.glob("*.csv"))
    return source.suffix.lower() in (".xlsx", ".xlsm")
