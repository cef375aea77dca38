"""Grouper service: DRG and STG for each current activity, under its rule year."""

from __future__ import annotations

from isf import stages
from services.common import bootstrap, names
from services.common.runtime import processed, publish, supervised

svc = bootstrap.service("grouper")
app = svc.app
activity = svc.topic(names.ACTIVITY)
grouped = svc.topic(names.GROUPED)
set_aside = svc.set_aside(names.ACTIVITY)


@app.agent(activity)
@supervised("grouper")
async def group(stream):
    async for raws in svc.batches(stream):
        activities, unfit = stages.read(raws, stages.parse_activity)
        out, failed = stages.group_each(activities)
        processed("grouper", len(out))
        if out:
            await publish(grouped, out[0].activity.patient, [g.model_dump_json().encode() for g in out])
        await set_aside(unfit + failed)


if __name__ == "__main__":
    app.main()
