"""Progress of a long command on a terminal: what is done, the rate and the time left, rewritten in place on
standard error at most twice a second; nothing at all when standard error is not a terminal (piped, logged)."""

from __future__ import annotations

import sys
import time
from typing import Callable, TextIO


def duration(seconds: float) -> str:
    s = int(seconds + 0.5)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


class Progress:
    def __init__(
        self,
        what: str,
        unit: str = "events",
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
        every: float = 0.5,
    ):
        self.what, self.unit, self.clock, self.every = what, unit, clock, every
        self.stream = stream if stream is not None else sys.stderr
        self.on = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = clock()
        self.shown = self.started - every  # the first update shows at once
        self.width = 0

    def update(self, done: int, fraction: float | None = None) -> None:
        """`done` units so far; `fraction` of the whole work done, where known (gives the time left)."""
        if not self.on:
            return
        now = self.clock()
        if now - self.shown < self.every:
            return
        self.shown = now
        elapsed = now - self.started
        parts = [f"{self.what}: {done:,} {self.unit}"]
        if fraction is not None:
            parts[0] += f" ({100 * min(fraction, 1.0):.0f} %)"
        if elapsed > 0:
            parts.append(f"{done / elapsed:,.0f} {self.unit}/s")
        if fraction and 0 < fraction < 1:
            parts.append(f"{duration(elapsed * (1 - fraction) / fraction)} left")
        line = ", ".join(parts)
        self.stream.write("\r" + line.ljust(self.width))
        self.stream.flush()
        self.width = len(line)

    def close(self, done: int) -> None:
        """The last line: how much in how long, ended so that what follows starts on a line of its own."""
        if not self.on:
            return
        elapsed = self.clock() - self.started
        rate = f", {done / elapsed:,.0f} {self.unit}/s" if elapsed > 0 else ""
        line = f"{self.what}: {done:,} {self.unit} in {duration(elapsed)}{rate}"
        self.stream.write("\r" + line.ljust(self.width) + "\n")
        self.stream.flush()
        self.width = 0
