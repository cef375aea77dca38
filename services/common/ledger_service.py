"""A faust service around one contribution ledger: grouped activity in, delta batches out."""

from __future__ import annotations

from typing import Callable

from isf import stages
from isf.events import DELTA_BATCHES
from isf.grouping.activity import Grouped
from isf.periods.ledger import Contributions

from . import names
from .config import make_app, retain_years
from .runtime import SetAside, batches, processed, publish, store, supervised, track


def ledger_app(name: str, output: str, namespace: str, contributions: Callable[[Grouped], Contributions]):
    app = make_app(name)
    grouped = app.topic(names.GROUPED, key_serializer="raw", value_serializer="raw")
    out = app.topic(output, key_serializer="raw", value_serializer="raw")
    retain = retain_years()
    service = name.removeprefix("isf-")
    set_aside = SetAside(app, service, names.GROUPED)
    track(app, service)

    @app.agent(grouped, name=f"{name}.apply")
    @supervised(service)
    async def apply(stream):
        async for raws in batches(stream):
            gs, unfit = stages.read(raws, stages.parse_grouped)
            ok, applying, failed = stages.contribute(gs, namespace, contributions, retain)
            processed(service, len(ok))
            changed = await stages.apply_items(applying, store(), [g.rules for g in ok])
            if changed:
                await publish(out, changed[0].id, [DELTA_BATCHES.dump_json(b) for b in changed])
            await set_aside(unfit + failed)

    return app
