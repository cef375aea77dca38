"""Load NordDRG definition data (directorate JSON or a folder of CSV tables), validate it, compile it.

The six tables are `drglogic`, `dg`, `proc`, `complcat`, `complexcl` and `drgnames`,
laid out as in the NordDRG definition data (`../shared/norddrg/FORMAT.md`); today's table
format is read into them by `modern` (docs/definitions.md). Broken data fails loudly with
`DefinitionError`, naming the table, the row and the field.

Compiling turns every code into the set of "facts" it gives a case (`CodeProps`) and every
logic row into a `Rule` (facts required, facts forbidden, numeric ranges), each rule filed
under the rarest fact it requires, so that the engine tests only the rules a case's facts
can satisfy, in file order. Nothing is cached on disk: reading and compiling take about
10 ms for the demo sets and about 1 s of CPU for the 2016 official set, and unpickling the
same objects took about two thirds of that.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .codes import NO_PROPS, PAIR_CATEGORY, CodeProps, code_props, pair_dgcat
from .errors import DefinitionError
from .logic import LOGIC_COLUMNS, LogicRow, Rule, compile_rule, split_cell

TABLES = ("drglogic", "dg", "proc", "complcat", "complexcl", "drgnames")
KEY_FIELD = {
    "drglogic": "ord",
    "dg": "code",
    "proc": "code",
    "complcat": "compl",
    "complexcl": "compl",
    "drgnames": "drg",
}
REQUIRED = {
    "drglogic": ("ord", "drg", "rtc"),
    "dg": ("code", "vartype", "varval"),
    "proc": ("code", "vartype", "varval"),
    "complcat": ("compl",),
    "complexcl": ("compl", "code"),
    "drgnames": ("drg",),
}
DG_VARTYPES = {"DGCAT", "MDC", "DGPROP", "PDGPRO", "COMPL", "OR", "PROCPR", "SDGPRO"}
PROC_VARTYPES = {"PROCPR", "DGPROP", "OR", "CC"}
_NUMERIC_OPS = ("agelim", "dur", "compl")


@dataclass
class Definitions:
    """Compiled definition data: what each code gives a case, and the logic rows as indexed rules."""

    name: str
    logic: list[LogicRow]
    dg: dict[str, dict[str, list[tuple[str, str]]]]  # code -> vartype -> [(d_code, value)] in file order
    proc: dict[str, dict[str, list[str]]]  # code -> vartype -> [value]
    inclusions: list[tuple[str, str]]  # (compl I/J category, activating DGPROP) in file order
    exclusions: set[tuple[str, str]]  # (compl, principal code), rows without d_code
    drg_mdc: dict[str, str]
    diagnoses: dict[str, CodeProps]  # each dg code on its own
    procedures: dict[str, CodeProps]
    rules: list[Rule]  # scan order; rows that can never hold are left out
    rules_by_fact: dict[str, list[int]]  # each rule (its position in `rules`) under the rarest fact it requires
    rules_always: list[int]  # rules that require no fact
    rule_keys: frozenset[str] = frozenset()
    pair_category: str = "second"  # PAIR_CATEGORY
    fine_rtcs: frozenset[str] = frozenset({"0", "A"})  # return codes with which the DRG stands (no error)
    rtc_texts: dict[str, str] = field(default_factory=dict)  # return code -> its text, where the tables give one
    unknown_principal_rtc: str | None = "9"  # given instead of a row's error code when the principal is unknown
    report: dict = field(default_factory=dict)  # what was read (format, counts, anything not used)

    def __post_init__(self):
        self.rule_keys = frozenset(self.rules_by_fact)

    def known_diagnosis(self, code: str) -> bool:
        return code in self.dg

    def candidates(self, facts: set[str]) -> list[int]:
        """Positions of the rules that may hold for a case with these facts, in scan order."""
        by_fact = self.rules_by_fact
        out = list(self.rules_always)
        for fact in self.rule_keys.intersection(facts):
            out += by_fact[fact]
        out.sort()
        return out

    def pair_values(self, c1: str, c2: str) -> dict[str, list[tuple[str, str]]]:
        """Values a diagnosis pair gets from `dg`, by vartype, in file order, each with the code that
        gave it (FORMAT.md section 4): a code alone, or a (dagger, asterisk) pair."""
        if not c1:
            return {}  # the second code is never looked at without the first
        rows1, rows2 = self.dg.get(c1, {}), self.dg.get(c2, {}) if c2 else {}
        values: dict[str, list[tuple[str, str]]] = {}
        for vartype in sorted(rows1.keys() | rows2.keys()):
            pair_rows = vartype != "OR"  # OR rows count only without a d_code
            got = [(v, c1) for d, v in rows1.get(vartype, ()) if not d or (pair_rows and c2 and c1 == d and c2 == c1)]
            got += [
                (v, f"{c1}+{c2}" if d else c2) for d, v in rows2.get(vartype, ()) if not d or (pair_rows and d == c1)
            ]
            values[vartype] = got
        return values

    def pair_props(self, c1: str, c2: str) -> CodeProps:
        if not c2:
            return self.diagnoses.get(c1, NO_PROPS)
        if not c1:
            return NO_PROPS
        values = {k: [v for v, _ in got] for k, got in self.pair_values(c1, c2).items()}
        return code_props(
            values,
            dgcat=pair_dgcat(
                self.dg.get(c1, {}).get("DGCAT", ()), self.dg.get(c2, {}).get("DGCAT", ()), c1, c2, self.pair_category
            ),
        )

    def procedure_values(self, code: str) -> dict[str, list[tuple[str, str]]]:
        return {k: [(v, code) for v in got] for k, got in self.proc.get(code, {}).items()}


# --- reading -------------------------------------------------------------------------

_TRAILING_COMMA = re.compile(r",(?=\s*[\]}])")


def _parse_json(raw: bytes, name: str) -> dict[str, list[dict[str, str]]]:
    text = raw.decode("utf-8-sig")
    try:
        data = json.loads(_TRAILING_COMMA.sub("", text), strict=False)
    except json.JSONDecodeError as exc:
        raise DefinitionError(name, None, None, f"not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise DefinitionError(name, None, None, "expected one JSON object with the six tables")
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
    if not source.exists():
        raise DefinitionError(str(source), None, None, "no such file or folder")
    if source.suffix == ".zip":
        with zipfile.ZipFile(source) as zf:
            names = [n for n in zf.namelist() if n.lower().endswith(".json")]
            if len(names) != 1:
                raise DefinitionError(source.name, None, None, "zip must hold exactly one JSON file")
            return _parse_json(zf.read(names[0]), names[0])
    return _parse_json(source.read_bytes(), source.name)


# --- validating and compiling ----------------------------------------------------------


def _clean_row(table: str, i: int, row) -> dict[str, str]:
    """The row with every key and value trimmed (a null reads as ""), or the reason it cannot be."""
    if not isinstance(row, dict):
        raise DefinitionError(table, i, None, "row is not an object")
    clean = {}
    for k, v in row.items():
        if v is None:
            v = ""
        if not isinstance(v, str):
            raise DefinitionError(table, i, k, f"expected a string, got {type(v).__name__}")
        clean[k.strip()] = v.strip()
    return clean


def _clean_rows(data: dict, table: str) -> list[tuple[int, dict[str, str]]]:
    rows = data.get(table)
    if rows is None:
        raise DefinitionError(table, None, None, "table missing")
    key, required = KEY_FIELD[table], REQUIRED[table]
    out = []
    for i, row in enumerate(rows, start=1):
        try:
            clean = dict(zip(map(str.strip, row), map(str.strip, row.values())))
        except (TypeError, AttributeError):  # not an object, or a null or non-string value
            clean = _clean_row(table, i, row)
        if not clean.get(key):
            continue  # rows without a key are skipped, as the reference does
        for req in required:
            if req not in clean:
                raise DefinitionError(table, i, req, "column missing")
        out.append((i, clean))
    return out


def compile_definitions(data: dict, name: str = "definitions", **options) -> Definitions:
    """The six tables compiled; `options` are the `Definitions` fields after `rule_keys` (pair rule, return codes)."""
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

    inclusions = [
        (row["compl"], row["inclprop"])
        for _, row in _clean_rows(data, "complcat")
        if row.get("inclprop") and len(row["compl"]) >= 3 and row["compl"][2] in "IJ"
    ]
    exclusions = {(row["compl"], row["code"]) for _, row in _clean_rows(data, "complexcl") if not row.get("d_code")}
    drg_mdc: dict[str, str] = {}
    for _, row in _clean_rows(data, "drgnames"):
        drg_mdc.setdefault(row["drg"], row.get("mdc", ""))

    shared: dict[CodeProps, CodeProps] = {}  # codes with the same properties share one object
    diagnoses = {
        code: shared.setdefault(p, p)
        for code, by_vt in dg.items()
        for p in [
            code_props(
                {vt: [v for d, v in rows if not d] for vt, rows in by_vt.items()},
                dgcat=(by_vt["DGCAT"][0][1], "") if "DGCAT" in by_vt else None,
            )
        ]
    }
    procedures = {
        code: shared.setdefault(p, p)
        for code, by_vt in proc.items()
        for p in [code_props(by_vt, cc=max(map(int, by_vt.get("CC", ())), default=0))]
    }
    rules = [r for r in map(compile_rule, logic) if r is not None]
    rules_by_fact, rules_always = _index(rules, _fact_counts(diagnoses, procedures))
    return Definitions(
        name,
        logic,
        dg,
        proc,
        inclusions,
        exclusions,
        drg_mdc,
        diagnoses,
        procedures,
        rules,
        rules_by_fact,
        rules_always,
        **options,
    )


def _fact_counts(diagnoses: dict[str, CodeProps], procedures: dict[str, CodeProps]) -> Counter:
    """How many codes give each fact: a rough measure of how often a case has it."""
    counts: Counter = Counter()
    for p in diagnoses.values():
        counts.update(p.as_principal[2])
    for p in procedures.values():
        counts.update(p.facts[2])
    return counts


def _index(rules: list[Rule], counts: Counter) -> tuple[dict[str, list[int]], list[int]]:
    """File each rule under the rarest fact it requires: a rule is tested only if the case has it."""
    common = sum(counts.values()) + 1  # facts no code gives (valid principal, sex, discharge) are common
    by_fact: dict[str, list[int]] = {}
    always: list[int] = []
    for i, r in enumerate(rules):
        if r.required:
            key = min(r.required, key=lambda f: (counts.get(f, common), f))
            by_fact.setdefault(key, []).append(i)
        else:
            always.append(i)
    return by_fact, always


_MEMO: dict[tuple[str, str, str], Definitions] = {}
FORMATS = ("auto", "old", "current")  # old: the six tables (JSON, zip, CSV folder); current: today's NCC tables


def detect_format(source: Path) -> str:
    from .modern import is_current_format

    return "current" if is_current_format(Path(source)) else "old"


def load_definitions(source: str | Path, fmt: str = "auto", pair_category: str = "second") -> Definitions:
    """Load, validate and compile, in the format given or detected; once per process for the same content."""
    if fmt not in FORMATS:
        raise ValueError(f"definition format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if pair_category not in PAIR_CATEGORY:
        raise ValueError(f"pair category {pair_category!r}: expected one of {', '.join(PAIR_CATEGORY)}")
    source = Path(source).resolve()
    if not source.exists():
        raise DefinitionError(str(source), None, None, "no such file or folder")
    fmt = detect_format(source) if fmt == "auto" else fmt
    key = (_content_digest(source), fmt, pair_category)
    if key not in _MEMO:
        if fmt == "current":
            from .modern import read_tables, translate

            tables, version = read_tables(source)
            raw, options = translate(tables, source.name, version)
            options["report"]["pair_category"] = pair_category
            _MEMO[key] = compile_definitions(raw, name=source.name, pair_category=pair_category, **options)
        else:
            report = {"source": source.name, "version": source.stem, "format": "old", "pair_category": pair_category}
            _MEMO[key] = compile_definitions(read_raw(source), source.name, pair_category=pair_category, report=report)
        defs = _MEMO[key]
        defs.report.update(rules=len(defs.logic), diagnoses=len(defs.dg), procedures=len(defs.proc))
    return _MEMO[key]


def _content_digest(source: Path) -> str:
    h = hashlib.sha256()
    files = sorted(p for p in source.iterdir() if p.suffix.lower() == ".csv") if source.is_dir() else [source]
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()
