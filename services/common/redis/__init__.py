"""The Redis side of the store ports (`isf.stages`), split by job: the Lua scripts in `lua/` (`scripts`), transport
and retries (`transport`), one adapter per port as the in-memory twins are (`ingest`, `ledger`, `totals`, `stats`),
the read models (`reads`) and `RedisStore`, the adapters over one client.

Every script runs the same rules as its in-memory twin in `isf` (ingest.MemoryIngestLedger,
periods.ledger.MemoryLedger, settlement.totals.Totals), atomically, so several workers can share the work and a
re-delivered message changes nothing. The keys one script touches share a hash tag (`{hf}` for ingest,
`{<patient pseudonym>}` for the contribution ledgers, `{totals}` for settlement), and KEYS[1] has that tag, so a
cluster client routes each call to the node owning it: the scripts also run on Redis Cluster. The keys are named in
`services/common/names.py` and catalogued in docs/delivery.md's "Redis keys" table.
"""

from .ingest import IngestLedger
from .ledger import ContributionLedger
from .reads import (
    applied_digest,
    read_applied,
    read_counters,
    read_errors,
    read_hf_counters,
    read_ledger,
    read_nki,
    read_processed,
    read_set_aside,
    read_statement_sums,
    read_totals,
    read_view_sums,
)
from .stats import WorkerStats
from .store import RedisStore
from .totals import SettledTotals

__all__ = [
    "ContributionLedger",
    "IngestLedger",
    "RedisStore",
    "SettledTotals",
    "WorkerStats",
    "applied_digest",
    "read_applied",
    "read_counters",
    "read_errors",
    "read_hf_counters",
    "read_ledger",
    "read_nki",
    "read_processed",
    "read_set_aside",
    "read_statement_sums",
    "read_totals",
    "read_view_sums",
]
