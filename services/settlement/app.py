"""Settlement service: sums point and indicator deltas into totals, each batch once."""
from __future__ import annotations

from isf.events import DeltaBatch
from services.common.config import make_app
from services.common.runtime import processed, store, track

app = make_app("isf-settlement")
deltas = app.topic("isf.points", "isf.indicators", key_serializer="raw", value_serializer="raw")

track(app, "settlement")


@app.agent(deltas)
async def settle(stream):
    async for raw in stream:
        processed("settlement")
        await store().settle(DeltaBatch.model_validate_json(raw))


if __name__ == "__main__":
    app.main()
