"""A faust service around one contribution ledger: grouped activity in, delta batches out."""
from __future__ import annotations

from typing import Callable

from isf.grouping.activity import Grouped
from isf.ingest import activity_year
from isf.periods.calendar import closes_at
from isf.periods.ledger import Contributions

from .config import make_app, retain_years
from .runtime import processed, send, store, track


def ledger_app(name: str, output: str, namespace: str, contributions: Callable[[Grouped], Contributions]):
    app = make_app(name)
    grouped = app.topic("isf.grouped", key_serializer="raw", value_serializer="raw")
    out = app.topic(output, key_serializer="raw", value_serializer="raw")
    retain = retain_years()
    service = name.removeprefix("isf-")
    track(app, service)

    @app.agent(grouped, name=f"{name}.apply")
    async def apply(stream):
        async for raw in stream:
            processed(service)
            g = Grouped.model_validate_json(raw)
            a = g.activity
            batch = await store().apply(namespace, a.source_id, a.version, contributions(g),
                                        closes_at(activity_year(a), retain))
            if batch is not None and batch.deltas:
                await send(out, g.activity.hf, batch.model_dump_json().encode())

    return app
