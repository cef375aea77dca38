"""Statements from the settled state in Redis: live ones, and those frozen when they were paid.

A statement after tertial 1 or 2 is live until it is frozen (`isf statement --kind t1|t2 --freeze`, once that
tertial has been settled and paid); from then on the frozen copy is that statement, the next statement's change is
measured from what was paid, and the difference (avregning) is the final statement minus the statement after
tertial 1 as paid, so late corrections to the first tertial show up in it.
"""

from __future__ import annotations

import json
import time

from isf.settlement.statements import statements
from isf.stats import year_of
from services.common import names

from ..common.redis import read_nki, read_totals

FROZEN = names.FROZEN  # hash `<year>|<kind>` -> the statement as frozen
FREEZABLE = ("t1", "t2")


def frozen(client, year: int) -> dict[str, dict]:
    """The frozen statements of `year` by kind."""
    raws = zip(FREEZABLE, client.hmget(FROZEN, [f"{year}|{k}" for k in FREEZABLE]))
    return {kind: json.loads(raw) for kind, raw in raws if raw}


def freeze(client, year: int, kind: str) -> dict:
    """Freeze the statement of `year` after tertial 1 or 2 as it stands now; refuses to freeze one twice."""
    if kind not in FREEZABLE:
        raise ValueError(f"only the statements after tertial 1 and 2 are frozen ({', '.join(FREEZABLE)}), not {kind}")
    paid = frozen(client, year)
    docs = statements(read_totals(client), year, read_nki(client), paid)
    doc = {**docs[kind], "frozen_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if not client.hsetnx(FROZEN, f"{year}|{kind}", json.dumps(doc)):
        raise ValueError(f"the {kind} statement for {year} was frozen already (at {paid[kind]['frozen_at']})")
    return doc


def compute_statements(client) -> dict[str, dict]:
    """Every statement of every activity year with settled totals (its ISF, and the RBF of the next budget year),
    from the totals, NKI values and frozen copies, keyed `<year>|<kind>`."""
    rows = read_totals(client)
    nki_values = read_nki(client)
    years = sorted({year_of(k) for k, _p, _c in rows if k[0] in "PI"})
    out = {}
    for y in years:
        for kind, doc in statements(rows, y, nki_values, frozen(client, y)).items():
            out[f"{y}|{kind}"] = doc
    return out
