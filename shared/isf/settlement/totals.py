"""Settled totals: the sum of every delta batch, applied once each, keyed `stat|period`."""

from __future__ import annotations

from ..events import DeltaBatch


class Totals:
    """In-memory totals (replay, tests); the settlement service keeps the same sums in Redis."""

    def __init__(self) -> None:
        self.points: dict[str, int] = {}
        self.counts: dict[str, int] = {}
        self.applied: set[str] = set()

    def apply(self, batch: DeltaBatch | None) -> bool:
        """Sum a batch once; an empty batch is not sent by the services, so it is not recorded either."""
        if batch is None or not batch.deltas or batch.id in self.applied:
            return False
        self.applied.add(batch.id)
        for d in batch.deltas:
            k = f"{d.stat}|{d.period}"
            self.points[k] = self.points.get(k, 0) + d.points_micro
            self.counts[k] = self.counts.get(k, 0) + d.count
        return True

    def add_rows(self, rows) -> None:
        """Add another store's `rows` (a shard of a sharded replay) to these totals."""
        for k, p, c in rows:
            self.points[k] = self.points.get(k, 0) + p
            self.counts[k] = self.counts.get(k, 0) + c

    async def settle(self, batches: list[DeltaBatch]) -> int:
        """`isf.stages.TotalsStore`: the in-memory twin of the settlement script."""
        return sum(self.apply(b) for b in batches)

    def rows(self):
        """Non-zero totals in key order (a total that came and went is the same as none)."""
        for k in sorted(set(self.points) | set(self.counts)):
            p, c = self.points.get(k, 0), self.counts.get(k, 0)
            if p or c:
                yield k, p, c
