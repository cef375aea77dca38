"""A faust service around one contribution ledger: grouped activity in, delta batches out."""
from __future__ import annotations

from typing import Callable

from isf.grouping.activity import Grouped
from isf.periods.ledger import Contributions

from .config import make_app
from .runtime import send, store


def ledger_app(name: str, output: str, namespace: str, contributions: Callable[[Grouped], Contributions]):
    app = make_app(name)
    grouped = app.topic("isf.grouped", key_serializer="raw", value_serializer="raw")
    out = app.topic(output, key_serializer="raw", value_serializer="raw")

    @app.agent(grouped, name=f"{name}.apply")
    async def apply(stream):
        async for raw in stream:
            g = Grouped.model_validate_json(raw)
            batch = await store().apply(namespace, g.activity.source_id, g.activity.version, contributions(g))
            if batch is not None and batch.deltas:
                await send(out, g.activity.hf, batch.model_dump_json().encode())

    return app
