"""How often settlement's whole-state jobs (the statements, the monitor's view) run: at most a share of one core.

Each of them reads sums that grow with the year (per HF, sector, system, residence and period), so on a year-sized
state a fixed period would let them take the worker over. After a run that took t seconds a job waits t x (1/share - 1)
before the next, so it never uses more than `share` of a core; while it is cheap the timer's own period decides.
"""

from __future__ import annotations

import time
from typing import Callable


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

    def ran(self, started: float, mark: object = None) -> None:
        """Record a run that began at `started` (this pacer's clock) and ended now."""
        self.ended = self.clock()
        self.took = self.ended - started
        self.mark = mark
