"""Grouper service: DRG and STG for each current activity, under its rule year."""
from __future__ import annotations

from isf.events import Activity
from isf.grouping.activity import group_activity
from services.common.config import make_app
from services.common.runtime import processed, send, track

app = make_app("isf-grouper")
activity = app.topic("isf.activity", key_serializer="raw", value_serializer="raw")
grouped = app.topic("isf.grouped", key_serializer="raw", value_serializer="raw")

track(app, "grouper")


@app.agent(activity)
async def group(stream):
    async for raw in stream:
        processed("grouper")
        g = group_activity(Activity.model_validate_json(raw))
        await send(grouped, g.activity.patient, g.model_dump_json().encode())


if __name__ == "__main__":
    app.main()
