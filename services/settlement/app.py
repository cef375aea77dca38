"""Settlement service: sums point and indicator deltas into totals (each batch once), keeps external NKI
values, publishes the statements (after tertial 1 and 2, final, difference) whenever they change, and keeps the
monitor's materialised view current (every ISF_VIEW_INTERVAL seconds when something was settled, built from the
view's sums that the settlement script keeps beside the totals; the statements come from kept sums too)."""

from __future__ import annotations

import hashlib
import json
import logging
import time

import redis

from isf import stages
from isf.events import NkiV1
from isf.settlement.views import summary_view_of_sums
from services.common import bootstrap, names, observability
from services.common.redis import read_view_sums
from services.common.runtime import processed, publish, supervised
from services.settlement.pacing import Pacer, cpu_of
from services.settlement.statements import compute_statements

log = logging.getLogger("isf.settlement")
svc = bootstrap.service("settlement")
app, store = svc.app, svc.store
deltas = svc.topic(names.POINTS, names.INDICATORS)
nki_in = svc.topic(names.NKI)
statements_out = svc.topic(names.STATEMENTS)
INTERVAL = svc.settings.isf_statement_interval
VIEW_INTERVAL = svc.settings.isf_view_interval
set_aside = svc.set_aside(names.POINTS)  # either delta topic takes a set-aside batch back
_published: dict[str, str] = {}
# Statements read their kept sums (the view's point sums, the indicator sums): at most a tenth of a core (every
# INTERVAL while that is cheap). They are not skipped when nothing was settled: NKI values and a freeze change them.
statements_pace = Pacer(share=0.1)
view_pace = Pacer(share=0.25)  # the view reads its kept sums, only when something was settled since the last


@app.agent(deltas)
@supervised("settlement")
async def settle(stream):
    async for raws in svc.batches(stream):
        bs, unfit = stages.read(raws, stages.parse_delta_batch)
        processed("settlement", len(bs))
        await stages.settle(bs, store)
        await set_aside(unfit)


@app.agent(nki_in)
@supervised("settlement")
async def nki(stream):
    async for raw in stream:
        try:
            v = NkiV1.model_validate_json(raw)
        except ValueError as exc:
            log.warning("NKI value refused: %s", str(exc)[:300])
            continue
        await store.r.hset(names.NKI_VALUES, f"{v.year}|{v.hf}", f"{v.numerator},{v.denominator}")


# Statements and the view are whole-state computations: one settlement worker (the group's leader) makes them.
@app.timer(INTERVAL, on_leader=True)
async def publish_statements():
    if not statements_pace.allowed():
        return
    client = svc.sync_redis()  # a few synchronous reads of materialised hashes
    try:
        docs, took = await app.loop.run_in_executor(None, cpu_of, compute_statements, client)
    except redis.RedisError as exc:  # Redis away: the next tick tries again
        log.warning("statements not computed: %s", type(exc).__name__)
        return
    finally:
        client.close()
    statements_pace.ran(took)
    observability.timer_ran("statements")
    changed = {}
    for key, doc in docs.items():
        body = json.dumps(doc, sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(body.encode()).hexdigest()
        if _published.get(key) != digest:
            changed[key] = body
            _published[key] = digest
    if changed:
        try:
            await store.r.hset(names.STATEMENTS_KEY, mapping=changed)
        except redis.RedisError as exc:
            for key in changed:
                _published.pop(key, None)
            log.warning("statements not stored: %s", type(exc).__name__)
            return
        for key, body in changed.items():
            await publish(statements_out, key, [body.encode()])


def compute_view(client) -> dict[str, str] | None:
    """The view and its stamp, or None when nothing was settled since the last one (or the last build is too
    recent for its cost). `generated_at` is when the sums were read, so a view shows every batch settled before
    it (the monitor pushes the stamp to the dashboards, which then fetch their answers)."""
    if not view_pace.allowed():
        return None
    at = time.time()
    seq = client.get(names.SETTLE_SEQ) or b"0"
    if seq == view_pace.mark:
        return None
    body, took = cpu_of(
        lambda: json.dumps({**summary_view_of_sums(read_view_sums(client)), "generated_at": at}, separators=(",", ":"))
    )
    view_pace.ran(took, seq)
    return {names.VIEW_SUMMARY: body, names.VIEW_STAMP: repr(at)}


@app.timer(VIEW_INTERVAL, on_leader=True)
async def publish_view():
    client = svc.sync_redis()
    try:
        fields = await app.loop.run_in_executor(None, compute_view, client)
        if fields:
            await store.r.hset(names.VIEWS, mapping=fields)
        observability.timer_ran("view")
    except redis.RedisError as exc:
        log.warning("view not refreshed: %s", type(exc).__name__)
    finally:
        client.close()


if __name__ == "__main__":
    app.main()
