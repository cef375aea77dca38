"""Settled totals on Redis (`isf.stages.TotalsStore`, twin of `isf.settlement.totals.Totals`): each delta batch
summed once into the totals, the view's sums, the indicator sums and the hour's points per HF (`lua/totals.lua`),
all under the hash tag `{totals}`."""

from __future__ import annotations

import json
import time

from isf.events import DeltaBatch
from isf.periods.calendar import closes_at
from isf.settlement.views import view_fields
from isf.stats import year_of

from .. import names, observability
from .adapter import Adapter
from .scripts import TOTALS


def years_of(batch: DeltaBatch) -> list[int]:
    """The rule years a batch's deltas name in their stat keys (`P|<year>|...`, `I|<year>|...`, `S|<year>|...`)."""
    return sorted({year_of(d.stat) for d in batch.deltas})


class SettledTotals(Adapter):
    async def settle(self, batches: list[DeltaBatch], now: float | None = None) -> int:
        """Sum each batch into the totals once, and its points into the hour it was settled in (the
        monitor's time series); returns how many were new."""
        if not batches:
            return 0
        every: set[int] = set()
        args: list[str] = []
        for b in batches:
            rows = [
                [d.stat, d.period, d.points_micro, d.count, *(view_fields(d.stat, d.period) or ())] for d in b.deltas
            ]
            years = years_of(b)
            every.update(years)
            args += [
                b.id,
                json.dumps(rows) if rows else "[]",
                json.dumps([[y, closes_at(y, self.retain_years)] for y in years]),
            ]
        order = sorted(every)
        keys = [
            names.POINTS_TOTALS,
            names.COUNT_TOTALS,
            names.VIEW_POINT_SUMS,
            names.VIEW_COUNT_SUMS,
            names.INDICATOR_SUMS,
            names.SETTLE_SEQ,
            names.hourly(time.strftime("%Y%m%d%H", time.gmtime(now))),
            *(names.batches(y) for y in order),
        ]
        new = int((await self.transport.run(TOTALS, [(keys, [json.dumps(order), *args])]))[0])
        observability.count("settled", new)
        observability.count("already_settled", len(batches) - new)
        return new
