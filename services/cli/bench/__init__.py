"""`isf bench`: every performance figure with a baseline measured in the same run, as one JSON document.

Figures (each `{"value", "unit", "baseline": {name: {"value", "ratio"}}}`, ratio = value / baseline):
- grouper: episodes per CPU-second through `group_activity` on distinct cases, against a plain dict
  lookup loop over the same activities and against drgpy (MS-DRG in pure Python) on synthetic US
  cases, with the DRG step alone and the realistic feed beside it;
- replay: events/s through `isf replay` on every core (against one process) and through `isf redistribute`,
  and the national year (12 million events) extrapolated unless measured;
- redis_memory: bytes per tracked patient-period, against the same patient-periods as bare set members;
- pipeline: events/s from feed to settled totals on the local broker and Redis, against raw aiokafka
  consume-transform-produce on the same broker, with peak memory per service while a flood of
  events waits in the topics (backpressure), and the national year extrapolated;
- latency: p50/p99 from sending an event to its points being in the settled totals the dashboard
  reads, at fixed rates of 500/s and 800/s (the nation averages about 0.4 events/s: these are load tests).
Absolute numbers vary between machines and runs; compare the ratios.
"""

from .report import run, summary

__all__ = ["run", "summary"]
