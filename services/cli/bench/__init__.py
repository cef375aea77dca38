"""`isf bench`: every performance figure with a baseline measured in the same run, as one JSON document.

Figures (each `{"value", "unit", "baseline": {name: {"value", "ratio"}}}`, ratio = value / baseline):
- grouper: episodes per CPU-second through `group_activity` on distinct cases, against a plain dict
  lookup loop over the same activities and against drgpy (MS-DRG in pure Python) on synthetic US
  cases, with the DRG step alone and the realistic feed beside it;
- replay: events/s through `isf replay` on every core (against one process) and through `isf redistribute`,
  and the national year (12 million events) extrapolated from them;
- redis_memory: bytes per tracked patient-period, against the same patient-periods as bare set members;
- pipeline: events/s from feed to settled totals on the local broker and Redis, against raw aiokafka
  consume-transform-produce on the same broker, with peak memory per service while a flood of
  events waits in the topics (backpressure), and the national year extrapolated;
- latency: p50/p99 from sending an event to its points being in the settled totals the dashboard
  reads, at fixed rates of 500, 800 and 1 000/s (the nation averages about 0.4 events/s: these are load tests);
- on_state: the services on Redis preloaded with a million events' state: a flood and 1 000/s on top.
`--national` instead measures a national year to the end (national.py): replay, the services, and 1 000/s on
the year's state.
Absolute numbers vary between machines and runs; compare the ratios.
"""

from .report import national_summary, run, summary

__all__ = ["national_summary", "run", "summary"]
