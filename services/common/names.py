"""Names every service shares, written once: the Kafka topics and their partition count, and the Redis keys.

The topics' roles are in README's picture; `python -m services.common.topics` creates them where a broker
does not auto-create (compose, Kubernetes), and the local stack creates them at start.
"""

from __future__ import annotations

EPISODES = "isf.episodes"
PRESCRIPTIONS = "isf.prescriptions"
ACTIVITY = "isf.activity"
GROUPED = "isf.grouped"
POINTS = "isf.points"
INDICATORS = "isf.indicators"
DEAD_LETTER = "isf.dead-letter"
NKI = "isf.nki"
STATEMENTS = "isf.statements"
TOPICS = (EPISODES, PRESCRIPTIONS, ACTIVITY, GROUPED, POINTS, INDICATORS, DEAD_LETTER, NKI, STATEMENTS)
INPUTS = (EPISODES, PRESCRIPTIONS)
PARTITIONS = 4  # per topic: the most workers of one service that get work

# Redis keys (docs/delivery.md's "Redis keys" table says what each holds and when it expires), written here only:
# the Lua scripts (services/common/redis/lua) get every name as KEYS. One hash tag per script: `{<hf>}` ingest,
# `{<patient>}` the contribution ledgers, `{totals}` settlement; a table's buckets are `<its key>:<i>`.
POINTS_TOTALS = "isf:{totals}:pts"
COUNT_TOTALS = "isf:{totals}:cnt"
VIEWS = "isf:{totals}:views"
VIEW_POINT_SUMS = "isf:{totals}:vpts"  # the view's sums of micro-points (isf.settlement.views), kept by TOTALS_LUA
VIEW_COUNT_SUMS = "isf:{totals}:vcnt"  # and of counts
INDICATOR_SUMS = "isf:{totals}:ind"  # the indicator totals' counts, kept by TOTALS_LUA: what statements read of them
SETTLE_SEQ = "isf:{totals}:seq"  # settlement calls that summed something: the view is rebuilt when it moves
VIEW_SUMMARY = "summary"  # field of VIEWS: the monitor's materialised view (JSON)
VIEW_STAMP = "summary_at"  # field of VIEWS: when the totals of that view were read (Unix seconds)
STATEMENTS_KEY = "isf:{totals}:statements"
FROZEN = "isf:{totals}:frozen"
NKI_VALUES = "isf:{totals}:nki"
STATS_PROCESSED = "isf:{stats}:processed"
STATS_WORKERS = "isf:{stats}:workers"
STATS_BEAT = "isf:{stats}:beat"
SET_ASIDE = "isf:{stats}:aside"  # items each stage set aside (dead-lettered after ingest), each counted once
REDRIVEN = "isf:{stats}:redriven"  # items `isf redrive` has sent back (their set-aside digests)
VOCAB_IDS = "isf:{vocab}:ids"  # the contribution ledgers' stats, periods and groups -> their ids
VOCAB_TEXTS = "isf:{vocab}:texts"  # and each id -> its text


def batches(year: int) -> str:
    """How many delta batches naming rule year `year` were summed; their digests are in the buckets `<this>:<i>`."""
    return f"isf:{{totals}}:batches:{year}"


def hourly(hour: str) -> str:
    """Micro-points settled per HF in one UTC hour (`yyyymmddhh`)."""
    return f"isf:{{totals}}:ts:{hour}"


def counters(hf: str | None) -> str:
    """Ingest counters of an HF (`none` for input that names no known HF)."""
    return f"isf:{{{hf or 'none'}}}:counters"


def errors(hf: str | None) -> str:
    """The latest dead-letter error lists of an HF."""
    return f"isf:{{{hf or 'none'}}}:errors"


def sources(hf: str | None) -> str:
    """An HF's sources: per rule-year close, a table of current revisions (buckets `<this>:<close>:<i>`)."""
    return f"isf:{{{hf or 'none'}}}:cur"


def dead_payload(hf: str | None, digest: str) -> str:
    """A dead-lettered payload of an HF already counted."""
    return f"isf:{{{hf or 'none'}}}:dead:{digest}"


def set_aside_item(digest: str) -> str:
    """A (stage, item) already counted in SET_ASIDE."""
    return f"{SET_ASIDE}:{digest}"


def ledger(patient: str) -> str:
    """The contribution ledgers of one patient (every source and unit of namespaces `pts` and `ind`): one hash."""
    return f"isf:{{{patient}}}:ledger"
