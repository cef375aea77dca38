"""Test converter: the 2016 Norwegian tables (old six-table format) written in today's NordDRG layout.

Writes what MODERN-FORMAT.md describes, with its traps made real so that a loader that ignores one of
them groups differently: rows of other national versions (a Finnish catch-all rule first), a disabled
catch-all rule, `ord` numbers whose order is neither the file's nor their text order, plus codes that
differ from the Norwegian codes, "not OR" rows, and the export damage of item 4 (MDC "1.0", CC level
"1.0", sex "2.0", DRG codes "10.0", numeric return codes "0.0"), as text in CSVs and as numbers in the
workbook.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

NORDIC = "den/fin/nor"


class Damaged(str):
    """A number as a spreadsheet export leaves it: "1.0" in a CSV, the float 1.0 in a workbook."""


def _num(text: str) -> str:
    return Damaged(f"{int(text)}.0") if text.isdigit() else text


def plus(code: str) -> str:
    return "X" + code if code else ""


def convert(raw: dict[str, list[dict[str, str]]]) -> dict[str, tuple[list[str], list[list[str]]]]:
    """The old tables as today's: table -> (header, rows)."""

    def rows(table: str, key: str):
        return [{k.strip(): (v or "").strip() for k, v in r.items()} for r in raw[table] if (r.get(key) or "").strip()]

    logic_cols = [
        "ord", "id", "drg_nat", "drg_text_nat", "drg_comb", "rtc", "icd", "mdc", "dgcat", "pdgprop", "compl",
        "or_proc", "procpro", "secpro", "dgprop1", "dgprop2", "dgprop3", "dgprop4", "agelim", "sex", "dur", "disch",
        "nat_ver",
    ]  # fmt: skip
    old_of = {"dgcat": "dgcat1", "or_proc": "or", "procpro": "procpro1", "secpro": "secproc1"}
    logic = []
    for i, r in enumerate(rows("drglogic", "ord")):
        row = {c: r.get(old_of.get(c, c), "") for c in logic_cols}
        mdc = row["mdc"]
        row.update(
            ord=Damaged(f"{(i + 1) * 7}.0"),  # numeric order; as text "14" sorts before "7"
            id=r["ord"],
            drg_nat=_num(r["drg"]),
            drg_text_nat=f"DRG {r['drg']}",
            drg_comb=r["drg"],
            rtc=_num(r["rtc"]),
            mdc=Damaged(f"{int(mdc)}.0") if mdc.isdigit() else mdc,
            compl=_num(r["compl"]) if r["compl"] else "",
            sex={"F": Damaged("2.0"), "M": Damaged("1.0")}.get(r["sex"], r["sex"]),
            nat_ver=NORDIC,
        )
        logic.append([row[c] for c in logic_cols])
    catch_all = {c: "" for c in logic_cols}
    catch_all.update(ord="1", id="FIN1", drg_nat="999", drg_comb="999", rtc="0", nat_ver="fin")
    disabled = dict(catch_all, ord="2", id="#NOR1", nat_ver="nor")
    logic += [[catch_all[c] for c in logic_cols], [disabled[c] for c in logic_cols]]
    random.Random(2016).shuffle(logic)

    dg_codes: dict[str, None] = {}
    dg_feat = []
    for r in rows("dg", "code"):
        dg_codes.setdefault(r["code"])
        vartype = {"PDGPRO": "PDGPROP"}.get(r["vartype"], r["vartype"])
        value = _num(r["varval"]) if r["vartype"] in ("MDC", "OR") else r["varval"]
        dg_feat.append(["", "", plus(r["code"]), plus(r.get("d_code", "")), "", "", vartype, value, "", "", NORDIC])
    dg_feat.insert(0, ["", "", plus("E881"), "", "", "", "DGCAT", "01M02", "", "", "fin"])  # not Norway's
    proc_codes: dict[str, set[str]] = {}
    proc_feat = []
    for r in rows("proc", "code"):
        proc_codes.setdefault(r["code"], set()).add(r["vartype"])
        value = _num(r["varval"]) if r["vartype"] in ("OR", "CC") else r["varval"]
        proc_feat.append(["", "", plus(r["code"]), "", r["vartype"], value, "", "", "", NORDIC])
    for code, vartypes in proc_codes.items():
        if "OR" not in vartypes:
            proc_feat.append(["", "", plus(code), "", "OR", Damaged("0.0"), "0", "", "", NORDIC])  # "not OR"
    compl_excl = [
        ["COMPLEX", r["compl"], "", "", "", "", "", plus(r["code"]), plus(r.get("d_code", "")), "", "", NORDIC]
        for r in rows("complexcl", "compl")
    ]
    compl_name = [[r["compl"], r.get("inclprop", ""), "", NORDIC] for r in rows("complcat", "compl")]
    drg_name = [
        [
            _num(r["drg"]),
            "",
            "",
            r["drg"],
            "",
            "",
            Damaged(f"{int(r['mdc'])}.0") if r["mdc"].isdigit() else r["mdc"],
            "nor",
        ]
        for r in rows("drgnames", "drg")
    ]
    texts = {
        "0": "OK",
        "A": "OK (principal diagnosis valid with this extra code)",
        "1": "No usable principal diagnosis",
        "4": "Age too low",
        "5": "Age too high",
        "6": "Age over 125 years",
        "7": "OR procedure unrelated to the principal diagnosis",
        "8": "Cannot be grouped",
        "9": "Code error",
    }
    mapping = ["code_nat", "text_nat", "code_plus", "text_plus", "country"]
    dg_feat_cols = "code_nat d_code_nat code_plus d_code_plus text_plus d_text_plus vartype varval prop_0"
    proc_feat_cols = "code_nat text_nat code_plus text_plus vartype varval or_val prop_0 varval_text_comb nat_ver"
    excl_cols = "vartype varval varval_text_comb code_nat d_code_nat text_nat d_text_nat code_plus d_code_plus"
    return {
        "drg_logic": (logic_cols, logic),
        "dg_feat": ((dg_feat_cols + " varval_text_comb nat_ver").split(), dg_feat),
        "proc_feat": (proc_feat_cols.split(), proc_feat),
        "compl_excl": ((excl_cols + " text_plus d_text_plus nat_ver").split(), compl_excl),
        "compl_name": (["compl", "act_prop", "text", "nat_ver"], compl_name),
        "dg": (mapping, [[c, "", plus(c), "", "nor"] for c in dg_codes]),
        "proc": (mapping, [[c, "", plus(c), "", "nor"] for c in proc_codes]),
        "drg_name": ("drg_nat text_nat short_nat drg_comb text_comb short_comb mdc country".split(), drg_name),
        "rtc": (["rtc_code", "rtc_text_nat", "country"], [[c, t, "nor"] for c, t in texts.items()]),
    }


def write_csvs(tables: dict, folder: Path, prefix: str = "NOR2016_") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (header, rows) in tables.items():
        with (folder / f"{prefix}{name}.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, delimiter=";")
            w.writerow(header)
            w.writerows(rows)
    return folder


def write_workbook(tables: dict, path: Path) -> Path:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for name, (header, rows) in tables.items():
        ws = wb.create_sheet(name)
        ws.append(header)
        for r in rows:
            ws.append([float(v) if isinstance(v, Damaged) else (v or None) for v in r])
    wb.save(path)
    return path


def subset(tables: dict, diagnoses: set[str], procedures: set[str]) -> dict:
    """Every rule, but the code tables only for these codes: enough to group cases made of them alike."""
    dg_plus, proc_plus = {plus(c) for c in diagnoses}, {plus(c) for c in procedures}
    out = dict(tables)
    for name, col, keep in (
        ("dg_feat", "code_plus", dg_plus),
        ("proc_feat", "code_plus", proc_plus),
        ("compl_excl", "code_plus", dg_plus),
        ("dg", "code_plus", dg_plus),
        ("proc", "code_plus", proc_plus),
    ):
        header, rows = tables[name]
        i = header.index(col)
        out[name] = (header, [r for r in rows if r[i] in keep])
    return out
