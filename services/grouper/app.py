"""Grouper service: DRG and STG for each current activity, under its rule year."""

from __future__ import annotations

from isf import stages
from services.common import names
from services.common.config import make_app
from services.common.runtime import SetAside, batches, processed, publish, supervised, track

app = make_app("isf-grouper")
activity = app.topic(names.ACTIVITY, key_serializer="raw", value_serializer="raw")
grouped = app.topic(names.GROUPED, key_serializer="raw", value_serializer="raw")
set_aside = SetAside(app, "grouper", names.ACTIVITY)
track(app, "grouper")


@app.agent(activity)
@supervised("grouper")
async def group(stream):
    async for raws in batches(stream):
        activities, unfit = stages.read(raws, stages.parse_activity)
        out, failed = stages.group_each(activities)
        processed("grouper", len(out))
        if out:
            await publish(grouped, out[0].activity.patient, [g.model_dump_json().encode() for g in out])
        await set_aside(unfit + failed)


if __name__ == "__main__":
    app.main()
