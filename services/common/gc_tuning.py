"""How a worker or a replay tunes Python's garbage collector for the hot path."""

from __future__ import annotations

import functools
import gc


@functools.cache
def tune_gc() -> None:
    """Collect the youngest objects every 50 000 allocations, not every 700: the hot path makes many
    short-lived records and no reference cycles of its own, and the default collections took about a
    quarter of a replay's time (README, Performance). What is alive at the first call (rules, definition
    tables) is frozen out of every collection; later calls do nothing (a replay freezes its own state as it
    goes: `freeze_survivors`). Forked workers inherit both."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 10)


def freeze_survivors() -> None:
    """Keep what a replay holds so far out of every later collection (`gc.freeze`, a list splice): it is the
    replay's state, not garbage. Over 100 000 feed events the collector found no cycle to free, yet scanning
    the growing state took a tenth of the time; called after each chunk, only what one chunk made is scanned."""
    gc.freeze()
