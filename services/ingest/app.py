"""Ingest service: validate, pseudonymise, dead-letter bad input, pass on one current version per source."""
from __future__ import annotations

import hashlib
import logging

from isf.ingest import PASS_ON, Rejected, category, parse, to_activity
from services.common.config import make_app, pseudonym_key
from services.common.runtime import dumps, send, store

log = logging.getLogger("isf.ingest")
KEY = pseudonym_key()  # refuses to start without a key outside the embedded default
app = make_app("isf-ingest")
inputs = app.topic("isf.episodes", "isf.prescriptions", key_serializer="raw", value_serializer="raw")
activity = app.topic("isf.activity", key_serializer="raw", value_serializer="raw")
dead_letter = app.topic("isf.dead-letter", key_serializer="raw", value_serializer="raw")


@app.agent(inputs)
async def ingest(stream):
    async for raw in stream:
        raw = raw if isinstance(raw, bytes) else bytes(raw or b"")
        parsed = parse(raw, KEY)
        if isinstance(parsed, Rejected):
            await store().dead_letter(parsed.hf, hashlib.sha256(raw).hexdigest())
            await send(dead_letter, parsed.hf or "unknown",
                       dumps({"errors": parsed.errors, "payload": parsed.payload, "hf": parsed.hf}))
            log.warning("dead-lettered: %s", "; ".join(parsed.errors)[:300])
            continue
        a = to_activity(parsed, KEY)
        decision = await store().decide(a.source_id, parsed.event_id, parsed.version, category(a))
        if decision in PASS_ON:
            await send(activity, a.patient, a.model_dump_json().encode())


if __name__ == "__main__":
    app.main()
