"""Ingest service: validate, pseudonymise, dead-letter bad input, pass on one current version per source."""
from __future__ import annotations

import hashlib
import logging
import time

from isf.ingest import PASS_ON, Rejected, activity_year, category, parse, to_activity
from isf.periods.calendar import closes_at, first_open_year
from services.common.config import make_app, pseudonym_key, retain_years
from services.common.runtime import dumps, processed, send, store, track

log = logging.getLogger("isf.ingest")
KEY = pseudonym_key()  # refuses to start without a key outside the embedded default
app = make_app("isf-ingest")
inputs = app.topic("isf.episodes", "isf.prescriptions", key_serializer="raw", value_serializer="raw")
activity = app.topic("isf.activity", key_serializer="raw", value_serializer="raw")
dead_letter = app.topic("isf.dead-letter", key_serializer="raw", value_serializer="raw")
RETAIN = retain_years()
track(app, "ingest")


@app.agent(inputs)
async def ingest(stream):
    async for raw in stream:
        processed("ingest")
        raw = raw if isinstance(raw, bytes) else bytes(raw or b"")
        parsed = parse(raw, KEY, open_from=first_open_year(time.time(), RETAIN))
        if isinstance(parsed, Rejected):
            await store().dead_letter(parsed.hf, hashlib.sha256(raw).hexdigest())
            await send(dead_letter, parsed.hf or "unknown",
                       dumps({"errors": parsed.errors, "payload": parsed.payload, "hf": parsed.hf}))
            log.warning("dead-lettered: %s", "; ".join(parsed.errors)[:300])
            continue
        a = to_activity(parsed, KEY)
        decision = await store().decide(a.source_id, parsed.event_id, parsed.version, category(a),
                                        closes_at(activity_year(a), RETAIN))
        if decision in PASS_ON:
            await send(activity, a.patient, a.model_dump_json().encode())


if __name__ == "__main__":
    app.main()
