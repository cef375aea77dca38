"""Ingest service: validate, pseudonymise, dead-letter bad input, pass on one current version per source."""

from __future__ import annotations

import logging
import time

from isf import stages
from isf.periods.calendar import first_open_year
from services.common import names
from services.common.config import make_app, pseudonym_key, retain_years
from services.common.runtime import batches, dumps, processed, publish, store, supervised, track

log = logging.getLogger("isf.ingest")
KEY = pseudonym_key()  # refuses to start without a key outside the embedded default
RETAIN = retain_years()
app = make_app("isf-ingest", array_input=False)
inputs = app.topic(names.EPISODES, names.PRESCRIPTIONS, key_serializer="raw", value_serializer="raw")
activity = app.topic(names.ACTIVITY, key_serializer="raw", value_serializer="raw")
dead_letter = app.topic(names.DEAD_LETTER, key_serializer="raw", value_serializer="raw")
track(app, "ingest")


@app.agent(inputs)
@supervised("ingest")
async def ingest(stream):
    async for raws in batches(stream, arrays=False):
        processed("ingest", len(raws))
        raws = [raw if isinstance(raw, bytes) else bytes(raw or b"") for raw in raws]
        out = await stages.ingest(raws, KEY, store(), open_from=first_open_year(time.time(), RETAIN), retain=RETAIN)
        if out.rejected:
            await publish(
                dead_letter,
                out.rejected[0].hf or "unknown",
                [dumps({"errors": r.errors, "payload": r.payload, "hf": r.hf}) for r in out.rejected],
            )
            for r in out.rejected:
                log.warning("dead-lettered (%s): %s", r.hf, "; ".join(r.errors)[:300])
        if out.passed:  # any worker may apply any source: the scripts order revisions, so one message per batch
            await publish(activity, out.passed[0].patient, [a.model_dump_json().encode() for a in out.passed])


if __name__ == "__main__":
    app.main()
