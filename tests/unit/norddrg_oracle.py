"""Test oracle: a literal reading of ../shared/norddrg/FORMAT.md over the raw tables, row by row.

This is the engine as it was before the tables were compiled into indexed rules: a linear
scan of every `drglogic` row, each cell tested by its column's rule. It is slow and kept
only so that the fast engine can be checked against it on many random cases.
"""

from __future__ import annotations

from isf.grouping.features import GroupingCase
from isf.grouping.logic import LOGIC_COLUMNS, split_cell

PRINCIPAL = "pair 1"


class Oracle:
    def __init__(self, raw: dict):
        def rows(table, key):
            return [
                {k.strip(): (v or "").strip() for k, v in r.items()} for r in raw[table] if (r.get(key) or "").strip()
            ]

        self.logic = [
            (r["ord"], r["drg"], r["rtc"], [(c, *split_cell(r[c])) for c in LOGIC_COLUMNS if r.get(c)])
            for r in rows("drglogic", "ord")
        ]
        self.dg: dict = {}
        for r in rows("dg", "code"):
            self.dg.setdefault(r["code"], {}).setdefault(r["vartype"], []).append((r.get("d_code", ""), r["varval"]))
        self.proc: dict = {}
        for r in rows("proc", "code"):
            self.proc.setdefault(r["code"], {}).setdefault(r["vartype"], []).append(r["varval"])
        self.inclusions = [
            (r["compl"], r["inclprop"])
            for r in rows("complcat", "compl")
            if r.get("inclprop") and len(r["compl"]) >= 3 and r["compl"][2] in "IJ"
        ]
        self.exclusions = {(r["compl"], r["code"]) for r in rows("complexcl", "compl") if not r.get("d_code")}

    def match(self, c1, c2, vartype, standalone_only=False):
        if not c1:
            return []
        out = [
            v
            for d, v in self.dg.get(c1, {}).get(vartype, ())
            if not d or (not standalone_only and c2 and c1 == d and c2 == c1)
        ]
        if c2:
            out += [v for d, v in self.dg.get(c2, {}).get(vartype, ()) if not d or (not standalone_only and d == c1)]
        return out

    def features(self, case: GroupingCase) -> dict:
        def recode(v):
            return ({"M": "12", "F": "13"}.get(case.sex, "98") + v[2:]) if v.startswith("98") else v

        c1, c2 = case.pairs[0]
        dgcat = None
        if c1:
            rows2 = self.dg.get(c2, {}).get("DGCAT", []) if c2 else []
            rows1 = self.dg.get(c1, {}).get("DGCAT", [])
            pair = [v for d, v in rows2 if d == c1]
            dgcat = (pair or [v for _, v in rows2] or [v for _, v in rows1] or [None])[0]
        f = {
            "dgcat": dgcat and recode(dgcat),
            "pdgprop": set(self.match(c1, c2, "PDGPRO")),
            "procpr": set(),
            "or": set(),
            "dgprop": set(),
        }
        f["mdc"] = f["dgcat"] and f["dgcat"][:2]
        proc_cc = 0
        first_source: dict = {}
        for p in case.procedures:
            props = self.proc.get(p, {})
            f["procpr"] |= set(props.get("PROCPR", ()))
            f["or"] |= set(props.get("OR", ()))
            proc_cc = max([proc_cc] + [int(v) for v in props.get("CC", ())])
            for v in props.get("DGPROP", ()):
                first_source.setdefault(v, p)
        for k, (a, b) in enumerate(case.pairs):
            f["procpr"] |= set(self.match(a, b, "PROCPR"))
            f["or"] |= set(self.match(a, b, "OR", standalone_only=True))
            for v in self.match(a, b, "DGPROP"):
                first_source.setdefault(v, PRINCIPAL if k == 0 else a)
        f["dgprop"] = {recode(v) for v in first_source}
        principal_cats = {v[:2] + v[3:] for v in self.match(c1, c2, "COMPL")}
        comps: dict = {}
        for a, b in case.pairs[1:]:
            for v in self.match(a, b, "COMPL"):
                if len(v) >= 3 and v[:2] + v[3:] not in principal_cats and v not in comps:
                    comps[v] = [v[2] in "CG", 2 if v[2] in "GJ" else 1]
        for v in comps:
            if (v, c1) in self.exclusions or (c2 and (v, c2) in self.exclusions):
                comps[v][0] = False
        for compl, inclprop in self.inclusions:
            if compl in comps and inclprop in f["dgprop"]:
                if first_source.get(inclprop) != PRINCIPAL:
                    comps[compl][0] = True
                break
        f["cc"] = max([proc_cc] + [lvl for active, lvl in comps.values() if active])
        return f

    def cell_holds(self, col, op, value, case, f) -> bool:
        def in_set(have):
            return True if not value else (value not in have if op == "-" else value in have)

        if col == "icd":
            return (f["dgcat"] is not None) == (op == "+") if op in "+-" and op and not value else True
        if col == "mdc":
            return True if not value else (f["mdc"] != value if op == "-" else f["mdc"] == value)
        if col == "dgcat1":
            if not value:
                return True
            return f["dgcat"] is not None and f["dgcat"] != value if op == "-" else f["dgcat"] == value
        if col == "pdgprop":
            return in_set(f["pdgprop"])
        if col in ("procpro1", "secproc1"):
            return in_set(f["procpr"])
        if col.startswith("dgprop"):
            return in_set(f["dgprop"])
        if col == "or":
            have, letter = f["or"], value.upper()
            if op in ("", "+") and letter in ("S", "P", "N", "Z"):
                return {
                    "S": "1" in have,
                    "P": "1" in have or "2" in have,
                    "N": "1" not in have,
                    "Z": "1" not in have and "2" not in have,
                }[letter]
            if op in "+-" and op and not value:
                return bool(have) == (op == "+")
            return not (op == "-" and letter not in ("S", "P", "N", "Z"))
        if col in ("agelim", "dur"):
            actual = case.age_days if col == "agelim" else case.los_days
            return actual < int(value) if op == "<" else actual > int(value) if op == ">" else True
        if col == "sex":
            if value in ("M", "F") and op != "-":
                return case.sex == value
            return case.sex == "U" if op == "-" and not value else True
        if col == "disch":
            want = value if value in ("E", "N", "H") else "other"
            have = case.discharge if case.discharge in ("E", "N", "H") else "other"
            return have != want if op == "-" else have != "E" if want == "N" else have == want
        if col == "compl":
            n, cc = int(value), f["cc"]
            return {"": cc >= n, "+": cc >= n, "=": cc >= n, ">": cc > n, "<": cc < n}.get(op, cc != n)
        return True

    def group(self, case: GroupingCase) -> tuple[str | None, str | None, str | None]:
        """(drg, ord, rtc) of the first row whose every cell holds."""
        f = self.features(case)
        principal = case.pairs[0][0]
        unknown = bool(principal) and principal not in self.dg
        for ord_, drg, rtc, cells in self.logic:
            if all(self.cell_holds(col, op, value, case, f) for col, op, value in cells):
                return drg, ord_, "9" if unknown and rtc not in ("0", "A") else rtc
        return None, None, None
