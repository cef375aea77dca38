"""The Lua scripts: read once from `lua/` at import, each composed with the shared pieces it builds on.

`bytewise.lua` orders strings byte by byte, `table.lua` is the growing table of small hashes and
`applied_table.lua` the settled batches' tables built on it; a script's text is the pieces it needs followed
by its own file. Every key a script touches comes in KEYS (named in `services/common/names.py`), or is a
bucket `<key>:<i>` of a table whose key does. A per-item script (`each`) is written for one item and run by
`each.lua` over a micro-batch of items in one call.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

LUA = Path(__file__).with_name("lua")


def compose(*parts: str) -> str:
    """The text of the files `lua/<part>.lua`, in order."""
    return "".join((LUA / f"{part}.lua").read_text() for part in parts)


def each(*parts: str) -> str:
    """A per-item script run over many items per call: the pieces, the last file (the item's script) as the
    function `one(KEYS, ARGV)`, then the driver `each.lua`."""
    *pieces, item = parts
    return compose(*pieces) + f"local function one(KEYS, ARGV)\n{compose(item)}\nend\n" + compose("each")


@dataclass(frozen=True)
class Script:
    """A script's name (its label in the Redis round-trip metric), text and SHA-1 (what EVALSHA names)."""

    name: str
    text: str
    per_item: bool = False  # composed by `each`: the transport sends items in batches
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha", hashlib.sha1(self.text.encode()).hexdigest())


INGEST = Script("ingest", each("bytewise", "table", "ingest"), per_item=True)
DEAD = Script("dead", each("dead"), per_item=True)
ASIDE = Script("aside", each("aside"), per_item=True)
LEDGER = Script("ledger", each("bytewise", "ledger"), per_item=True)
VOCAB = Script("vocab", compose("vocab"))
TOTALS = Script("totals", compose("table", "applied_table", "totals"))
APPLIED = Script("applied", compose("table", "applied_table", "applied"))
