"""How often settlement's whole-state jobs (the statements, the monitor's view) run: at most a share of one core.

Each of them reads sums that grow with the year (per HF, sector, system, residence and period), so on a year-sized
state a fixed period would let them take the worker over. After a run that cost t seconds of CPU a job waits
t x (1/share - 1) before the next, so it never uses more than `share` of a core; while it is cheap the timer's own
period decides. The cost is the CPU time of the thread that ran it, not its wall time: on a busy machine a run waits
for the GIL and for a core, and counting that waiting as cost spaced the view out to one in 0.8 s at 1 000 events/s
on two cores, where its timer asks for one in 0.25 s.
"""

from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")


class Pacer:
    def __init__(self, share: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.share = share
        self.clock = clock
        self.ended = float("-inf")
        self.took = 0.0
        self.mark: object = None  # what the last run was made from (the settle sequence number for the view)

    def allowed(self) -> bool:
        """Whether a run may start now within the cost share."""
        return self.clock() >= self.ended + self.took * (1 / self.share - 1)

    def ran(self, took: float, mark: object = None) -> None:
        """Record a run that ended now and cost `took` seconds of CPU (`cpu_of`)."""
        self.ended = self.clock()
        self.took = took
        self.mark = mark


def cpu_of(fn: Callable[..., T], *args) -> tuple[T, float]:
    """`fn(*args)` and the CPU seconds of the thread that ran it."""
    started = time.thread_time()
    out = fn(*args)
    return out, time.thread_time() - started
