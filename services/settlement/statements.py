"""Statements from the settled state in Redis: live ones, and the provisional statement frozen when it was paid.

A provisional statement is live until it is frozen (`isf statement --freeze`, once the first
tertial has been settled and paid); from then on the frozen copy is the provisional statement,
and the difference (avregning) is the final statement minus what was actually paid, so late
corrections to the first tertial show up in the difference.
"""

from __future__ import annotations

import json
import time

from isf.settlement.statements import difference, statement
from isf.stats import year_of
from services.common import names

from ..common.redis_store import read_nki, read_totals

FROZEN = names.FROZEN  # hash `<year>|provisional` -> the statement as frozen


def frozen_provisional(client, year: int) -> dict | None:
    raw = client.hget(FROZEN, f"{year}|provisional")
    return json.loads(raw) if raw else None


def freeze_provisional(client, year: int) -> dict:
    """Freeze the provisional statement of `year` as it stands now; refuses to freeze twice."""
    rows, nki = read_totals(client), read_nki(client)
    doc = {**statement(rows, year, "provisional", nki), "frozen_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if not client.hsetnx(FROZEN, f"{year}|provisional", json.dumps(doc)):
        raise ValueError(
            f"the provisional statement for {year} was frozen already "
            f"(at {frozen_provisional(client, year)['frozen_at']})"
        )
    return doc


def compute_statements(client) -> dict[str, dict]:
    """Every statement of every activity year with settled totals (its ISF, and the RBF of the next budget year),
    from the totals, NKI values and frozen copies."""
    rows = read_totals(client)
    nki_values = read_nki(client)
    years = sorted({year_of(k) for k, _p, _c in rows if k[0] in "PI"})
    out = {}
    for y in years:
        # ISF of y and RBF y+1 (NPR data of y, NKI of y-1); the provisional one frozen once it is paid
        prov = frozen_provisional(client, y) or statement(rows, y, "provisional", nki_values)
        final = statement(rows, y, "final", nki_values)
        out[f"{y}|provisional"], out[f"{y}|final"], out[f"{y}|difference"] = prov, final, difference(final, prov)
    return out
