"""The Lua scripts: read once from `lua/` at import, each composed with the shared pieces it builds on.

`bytewise.lua` orders strings byte by byte, `table.lua` is the growing table of small hashes and
`applied_table.lua` the settled batches' tables built on it; a script's text is the pieces it needs followed
by its own file. Every key a script touches comes in KEYS (named in `services/common/names.py`), or is a
bucket `<key>:<i>` of a table whose key does.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

LUA = Path(__file__).with_name("lua")


def compose(*parts: str) -> str:
    """The text of the files `lua/<part>.lua`, in order."""
    return "".join((LUA / f"{part}.lua").read_text() for part in parts)


@dataclass(frozen=True)
class Script:
    """A script's name (its label in the Redis round-trip metric), text and SHA-1 (what EVALSHA names)."""

    name: str
    text: str
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha", hashlib.sha1(self.text.encode()).hexdigest())


INGEST = Script("ingest", compose("bytewise", "table", "ingest"))
DEAD = Script("dead", compose("dead"))
ASIDE = Script("aside", compose("aside"))
LEDGER = Script("ledger", compose("bytewise", "ledger"))
VOCAB = Script("vocab", compose("vocab"))
TOTALS = Script("totals", compose("table", "applied_table", "totals"))
APPLIED = Script("applied", compose("table", "applied_table", "applied"))
