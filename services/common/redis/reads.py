"""Read models over what the Redis adapters keep: totals, the view's and the indicator sums, applied batches, NKI
values, ingest counters, dead-letter errors and set-aside counts; synchronous, for the monitor, the reports, the CLI
and tests. Reads never scan: they read materialised hashes and one key per known HF."""

from __future__ import annotations

import hashlib
import json

from isf.registry import hospitals
from isf.rules import YEARS
from isf.settlement.views import ViewSums

from .. import names
from .scripts import APPLIED
from .transport import text


def read_totals(client) -> list[tuple[str, int, int]]:
    """Settled totals as (`stat|period`, micro-points, count) rows."""
    pts = {k.decode(): int(v) for k, v in client.hgetall(names.POINTS_TOTALS).items()}
    cnt = {k.decode(): int(v) for k, v in client.hgetall(names.COUNT_TOTALS).items()}
    rows = [(k, pts.get(k, 0), cnt.get(k, 0)) for k in sorted(set(pts) | set(cnt))]
    return [r for r in rows if r[1] or r[2]]


def read_view_sums(client) -> ViewSums:
    """The view's sums the settlement script keeps (`isf.settlement.views`), zeros left out."""
    return _kept(client, names.VIEW_POINT_SUMS, names.VIEW_COUNT_SUMS)  # type: ignore[return-value]


def read_statement_sums(client) -> tuple[dict[str, int], dict[str, int]]:
    """What statements read (`isf.settlement.statements.rows_of_sums`): the view's point sums and the indicator
    totals' counts the settlement script keeps apart (`I|...|<period>`), zeros left out."""
    return _kept(client, names.VIEW_POINT_SUMS, names.INDICATOR_SUMS)  # type: ignore[return-value]


def _kept(client, *keys: str) -> tuple[dict[str, int], ...]:
    p = client.pipeline(transaction=False)
    for key in keys:
        p.hgetall(key)
    return tuple({k.decode(): int(v) for k, v in got.items() if v != b"0"} for got in p.execute())


def applied_digest(batch_id: str) -> bytes:
    """What the applied tables hold of a batch id: the first 16 bytes of its SHA-1 (lua/applied_table.lua)."""
    return hashlib.sha1(batch_id.encode()).digest()[:16]


def read_applied(client, ids: list[str], digests: list[bytes] | None = None) -> list[bool]:
    """Whether each delta batch id has been summed into the totals (in the applied table of any rule year):
    one script call however many ids (the latency bench asks about thousands a second). `digests`, if given,
    are the ids' `applied_digest`s, computed once by a caller that asks about the same ids again."""
    if not ids:
        return []
    digests = digests or [applied_digest(i) for i in ids]
    script = client.register_script(APPLIED.text)  # EVALSHA, loading the script when Redis lacks it
    hits = script(keys=[names.batches(y) for y in YEARS], args=digests)
    return [bool(h) for h in hits]


def read_nki(client) -> dict[int, dict[str, tuple[int, int]]]:
    """External NKI (numerator, denominator) per rule year and HF."""
    out: dict[int, dict[str, tuple[int, int]]] = {}
    for k, v in client.hgetall(names.NKI_VALUES).items():
        year, hf = k.decode().split("|")
        num, den = v.decode().split(",")
        out.setdefault(int(year), {})[hf] = (int(num), int(den))
    return out


def read_hf_counters(client) -> dict[str, dict[str, int]]:
    """Ingest counters per HF (`none` for input without a known HF): one pipelined read per known HF, no scans."""
    hfs = [*hospitals(), "none"]
    p = client.pipeline(transaction=False)
    for hf in hfs:
        p.hgetall(names.counters(hf))
    return {hf: {k.decode(): int(v) for k, v in got.items()} for hf, got in zip(hfs, p.execute()) if got}


def read_processed(client) -> dict[str, int]:
    """Events each service has processed, as its workers flush their counts once a second."""
    return {text(k): int(v) for k, v in client.hgetall(names.STATS_PROCESSED).items()}


def read_counters(client) -> dict[str, int]:
    """Ingest counters summed over the HFs."""
    out: dict[str, int] = {}
    for counters in read_hf_counters(client).values():
        for k, v in counters.items():
            out[k] = out.get(k, 0) + v
    return out


def read_errors(client, hfs: list[str]) -> dict[str, list[list[str]]]:
    """The latest dead-letter error lists per HF (newest first)."""
    p = client.pipeline(transaction=False)
    for hf in hfs:
        p.lrange(names.errors(hf), 0, 19)
    return {hf: [json.loads(e) for e in got] for hf, got in zip(hfs, p.execute()) if got}


def read_set_aside(client) -> dict[str, int]:
    """Items set aside per stage (each counted once)."""
    return {k.decode(): int(v) for k, v in client.hgetall(names.SET_ASIDE).items()}


def read_ledger(client, key: bytes | str) -> tuple[int, int, list[str]]:
    """(sources, memberships, units as `<group id>.<period id>`) of one patient's ledger hash (`lua/ledger.lua`),
    for the bench's memory figure: a unit's members are a msgpack array of (record number, date) pairs, whose header
    (after the entry count) gives their number."""
    sources = members = 0
    units = []
    for f, v in client.hgetall(key).items():
        f = text(f)
        if ":" in f:
            sources += 1
        elif f.startswith("u") and "+" not in f:
            units.append(f[1:])
            at = 1 if v[0] < 255 else 3
            head = v[at]
            n = (
                head & 0x0F
                if 0x90 <= head <= 0x9F
                else int.from_bytes(v[at + 1 : at + (3 if head == 0xDC else 5)], "big")
            )
            members += n // 2
    return sources, members, units
