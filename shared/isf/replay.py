"""The batch reference: the complete streaming logic in one process, without Kafka or Redis.

The same stage functions the services call (`isf.stages`), in micro-batches, over the in-memory twins
of the Redis stores; the streaming system must end in the same totals over the same events.
"""

from __future__ import annotations

import json
import re
import zlib
from typing import Callable, Iterable

from . import stages
from .events import DeltaBatch
from .grouping.activity import Grouped
from .ingest import FIRST_SIGHT, MemoryIngestLedger
from .periods import LEDGERS
from .periods.ledger import MemoryLedger
from .settlement.money import points_by_hf, summary
from .settlement.totals import Totals

BATCH = 500
COUNTERS = ("accepted", "superseded", "dead_lettered", "grouped", "deleted", "ongoing")


class Pipeline:
    def __init__(
        self,
        key: bytes,
        rule_year: int | None = None,
        open_from: int | None = None,
        on_batch: Callable[[DeltaBatch], None] | None = None,
        ledgers=LEDGERS,
    ):
        """`rule_year` groups every activity under that year's rules instead of its own (simulation);
        `open_from` refuses rule years before it as closed, as the ingest service does at the time;
        `on_batch` sees every delta batch as it is settled (what the settlement service receives);
        `ledgers` replaces what a grouped activity contributes (the redistribution's own pricing)."""
        self.key = key
        self.ledgers = ledgers
        self.on_batch = on_batch
        self.rule_year = rule_year
        self.open_from = open_from
        self.ingest = MemoryIngestLedger()
        self.ledger = MemoryLedger()
        self.totals = Totals()
        self.seen = 0
        self.repeats = 0  # repeated event ids and dead-lettered payloads seen before: counted nowhere else

    @property
    def counters(self) -> dict[str, int]:
        return {"in": self.seen, **{k: self.ingest.counters.get(k, 0) for k in COUNTERS}, "repeat": self.repeats}

    def handle(self, raw: bytes) -> None:
        self.handle_batch([raw])

    def handle_batch(self, raws: list[bytes]) -> None:
        grouped = self.front(raws)
        for ns, contributions in self.ledgers:
            self.back(stages.ledger_items(grouped, ns, contributions))

    def front(self, raws: list[bytes]) -> list[Grouped]:
        """Ingest and group: the half whose state is per source."""
        out = stages.run_now(stages.ingest(raws, self.key, self.ingest, self.open_from))
        self.seen += len(raws)
        self.repeats += sum(d not in FIRST_SIGHT for d in out.decisions) + out.first_dead.count(False)
        return stages.group(out.passed, self.rule_year)

    def back(self, items: list[stages.ApplyItem]) -> None:
        """A ledger and settlement: the half whose state is per patient."""
        batches = stages.run_now(stages.apply_items(items, self.ledger))
        fresh = {b.id: b for b in batches if b.id not in self.totals.applied} if self.on_batch is not None else {}
        stages.run_now(stages.settle(batches, self.totals))
        for b in fresh.values():
            self.on_batch(b)  # type: ignore[misc]

    def run(
        self, lines: Iterable[bytes], batch: int = BATCH, after_batch: Callable[[], None] | None = None
    ) -> "Pipeline":
        """Handle `lines` in batches of `batch`; `after_batch` (if given) is called after each."""
        chunk: list[bytes] = []
        for raw in lines:
            raw = raw.rstrip(b"\r\n")
            if raw:
                chunk.append(raw)
                if len(chunk) >= batch:
                    self.handle_batch(chunk)
                    chunk = []
                    if after_batch is not None:
                        after_batch()
        if chunk:
            self.handle_batch(chunk)
        return self

    def result(self) -> dict:
        return result(self.counters, list(self.totals.rows()))


def result(counters: dict[str, int], rows: list[tuple[str, int, int]]) -> dict:
    """What `isf replay` prints: the event counters and the settled totals summed."""
    return {"events": counters, "points_micro_by_hf": points_by_hf(rows), **summary(rows)}


def shard_of(text: str, shards: int) -> int:
    """A stable shard number (the same in every process and run) for a source or patient key."""
    return zlib.crc32(text.encode()) % shards


_HF = re.compile(rb'"hf"\s*:\s*"([^"\\]*)"')
_OWN = re.compile(rb'"(?:episode_id|prescription_id)"\s*:\s*"([^"\\]*)"')


def source_key(raw: bytes) -> str:
    """The key a sharded replay splits input lines by before parsing them: the source the line names
    (as ingest will name it, so that every version of one source meets the same ingest state), or the
    line itself when it names none (identical bad lines still meet: dead letters are counted once).
    A line without escapes that names each field once is read by pattern; any other is parsed."""
    if b"\\" not in raw:
        hfs, owns = _HF.findall(raw), _OWN.findall(raw)
        if len(hfs) == 1 and len(owns) == 1:
            return f"{hfs[0].decode(errors='replace').strip()}\x1f{owns[0].decode(errors='replace').strip()}"
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError):
        obj = None
    if isinstance(obj, dict):
        hf, own = obj.get("hf"), obj.get("episode_id", obj.get("prescription_id"))
        if isinstance(hf, str) and isinstance(own, str):
            return f"{hf.strip()}\x1f{own.strip()}"
    return raw.decode("utf-8", errors="replace")
