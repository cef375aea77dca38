"""Settlement service: sums point and indicator deltas into totals, each batch once."""
from __future__ import annotations

from isf.events import DeltaBatch
from services.common.config import make_app
from services.common.runtime import batches, items, processed, store, supervised, track

app = make_app("isf-settlement")
deltas = app.topic("isf.points", "isf.indicators", key_serializer="raw", value_serializer="raw")
track(app, "settlement")


@app.agent(deltas)
@supervised("settlement")
async def settle(stream):
    async for raws in batches(stream):
        bs = [DeltaBatch.model_validate(b) for b in items(raws)]
        processed("settlement", len(bs))
        await store().settle(bs)


if __name__ == "__main__":
    app.main()
