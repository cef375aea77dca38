"""The handler of a service around one contribution ledger: grouped activity in, delta batches out."""

from __future__ import annotations

from typing import Callable

from isf import stages
from isf.events import DELTA_BATCHES
from isf.grouping.activity import Grouped
from isf.periods.ledger import Contributions

from . import names
from .bootstrap import Service
from .runtime import processed, publish, supervised


def ledger_app(svc: Service, output: str, namespace: str, contributions: Callable[[Grouped], Contributions]):
    """Register the agent applying `contributions` of each grouped activity to the `namespace` ledger on the
    service's app, publishing the changes to `output`; returns the app."""
    app, service, store = svc.app, svc.name, svc.store
    grouped = svc.topic(names.GROUPED)
    out = svc.topic(output)
    retain = svc.settings.isf_retain_years
    set_aside = svc.set_aside(names.GROUPED)

    @app.agent(grouped, name=f"isf-{service}.apply")
    @supervised(service)
    async def apply(stream):
        async for raws in svc.batches(stream):
            gs, unfit = stages.read(raws, stages.parse_grouped)
            ok, applying, failed = stages.contribute(gs, namespace, contributions, retain)
            processed(service, len(ok))
            changed = await stages.apply_items(applying, store, [g.rules for g in ok])
            if changed:
                await publish(out, changed[0].id, [DELTA_BATCHES.dump_json(b) for b in changed])
            await set_aside(unfit + failed)

    return app
