"""Ingest service: validate, pseudonymise, dead-letter bad input, pass on one current version per source."""
from __future__ import annotations

import hashlib
import json
import logging
import time

from isf.ingest import PASS_ON, Rejected, state_year, category, parse, to_activity
from isf.periods.calendar import closes_at, first_open_year
from services.common.config import make_app, pseudonym_key, retain_years
from services.common.runtime import batches, dumps, processed, publish, store, supervised, track

log = logging.getLogger("isf.ingest")
KEY = pseudonym_key()  # refuses to start without a key outside the embedded default
RETAIN = retain_years()
app = make_app("isf-ingest")
inputs = app.topic("isf.episodes", "isf.prescriptions", key_serializer="raw", value_serializer="raw")
activity = app.topic("isf.activity", key_serializer="raw", value_serializer="raw")
dead_letter = app.topic("isf.dead-letter", key_serializer="raw", value_serializer="raw")
track(app, "ingest")


@app.agent(inputs)
@supervised("ingest")
async def ingest(stream):
    async for raws in batches(stream):
        processed("ingest", len(raws))
        open_from = first_open_year(time.time(), RETAIN)
        rejected, accepted = [], []
        for raw in raws:
            raw = raw if isinstance(raw, bytes) else bytes(raw or b"")
            parsed = parse(raw, KEY, open_from=open_from)
            if isinstance(parsed, Rejected):
                rejected.append((parsed, hashlib.sha256(raw).hexdigest()))
            else:
                accepted.append((parsed, to_activity(parsed, KEY)))
        if rejected:
            await store().dead_letter([(r.hf, digest, json.dumps(r.errors, ensure_ascii=False))
                                       for r, digest in rejected])
            await publish(dead_letter, rejected[0][0].hf or "unknown",
                          [dumps({"errors": r.errors, "payload": r.payload, "hf": r.hf}) for r, _ in rejected])
            for r, _ in rejected:
                log.warning("dead-lettered (%s): %s", r.hf, "; ".join(r.errors)[:300])
        decisions = await store().decide([(a.source_id, e.event_id, e.version, category(a),
                                           closes_at(state_year(a), RETAIN)) for e, a in accepted])
        current = [a for (_e, a), d in zip(accepted, decisions) if d in PASS_ON]
        if current:
            await publish(activity, current[0].patient, [a.model_dump_json().encode() for a in current])


if __name__ == "__main__":
    app.main()
