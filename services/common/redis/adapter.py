"""What every Redis port adapter is built from: the async client and the values the composition root hands it
(the adapters read no settings)."""

from __future__ import annotations

from typing import Callable

from .transport import Transport


class Adapter:
    def __init__(self, client, *, event_ttl: int, retain_years: int, clock: Callable[[], float] | None = None) -> None:
        """`event_ttl`: seconds a dead-lettered payload or a set-aside item is remembered (ISF_EVENT_TTL);
        `retain_years`: years a rule year's state is kept after the year that follows it (ISF_RETAIN_YEARS);
        `clock` (Unix seconds), if given, is the time the scripts judge rule-year closes and dead-letter
        retention by instead of Redis' own (the store contract's controlled clock)."""
        self.r = client
        self.transport = Transport(client)
        self.event_ttl = event_ttl
        self.retain_years = retain_years
        self.clock = clock

    def now(self) -> str:
        """The scripts' clock: "" for Redis' own time."""
        return str(int(self.clock())) if self.clock is not None else ""
