"""Statements from the settled state in Redis: live ones, and those frozen when they were paid.

A statement after tertial 1 or 2 is live until it is frozen (`isf statement --kind t1|t2 --freeze`, once that
tertial has been settled and paid); from then on the frozen copy is that statement, the next statement's change is
measured from what was paid, and the difference (avregning) is the final statement minus the statement after
tertial 1 as paid, so late corrections to the first tertial show up in it. What a statement is, and which may be
frozen, is `isf.settlement.statements`; this module only reads and writes Redis for it.
"""

from __future__ import annotations

import json
import time
from typing import Iterable

from isf.settlement.statements import (
    FREEZABLE,
    Settled,
    StatementError,
    every_statement,
    rows_of_sums,
    statement_years,
    to_freeze,
)
from services.common import names

from ..common.redis import read_nki, read_statement_sums

FROZEN = names.FROZEN  # hash `<year>|<kind>` -> the statement as frozen


def frozen(client, year: int) -> dict[str, dict]:
    """The frozen statements of `year` by kind."""
    raws = zip(FREEZABLE, client.hmget(FROZEN, [f"{year}|{k}" for k in FREEZABLE]))
    return {kind: json.loads(raw) for kind, raw in raws if raw}


def settled(client, years: Iterable[int] | None = None) -> Settled:
    """The rows of the kept sums (the view's point sums and the indicator sums, not the totals: a few thousand fields
    however many totals a year holds), NKI values and frozen statements (of `years`; of every year with statements if
    None)."""
    rows = rows_of_sums(*read_statement_sums(client))
    return Settled(
        rows, read_nki(client), {y: frozen(client, y) for y in (statement_years(rows) if years is None else years)}
    )


def freeze(client, year: int, kind: str) -> dict:
    """Freeze the statement of `year` after tertial 1 or 2 as it stands now; refuses to freeze one twice."""
    doc = to_freeze(settled(client, [year]), year, kind, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    if not client.hsetnx(FROZEN, f"{year}|{kind}", json.dumps(doc)):  # another freeze came between
        raise StatementError(f"the {kind} statement for {year} was frozen already")
    return doc


def compute_statements(client) -> dict[str, dict]:
    """Every statement of every activity year with settled totals, keyed `<year>|<kind>`."""
    return every_statement(settled(client))
