"""Ingest service: validate, pseudonymise, dead-letter bad input, pass on one current version per source."""

from __future__ import annotations

import logging
import time

from isf import stages
from isf.periods.calendar import first_open_year
from services.common import names, observability
from services.common.config import make_app, pseudonym_key, retain_years
from services.common.plain_input import PlainInput
from services.common.runtime import dumps, processed, publish, store, supervised, track

log = logging.getLogger("isf.ingest")
KEY = pseudonym_key()  # refuses to start without a key outside the embedded default
RETAIN = retain_years()
app = make_app("isf-ingest", producer_only=True)
inputs = observability.consuming(PlainInput("isf-ingest", names.EPISODES, names.PRESCRIPTIONS))
activity = app.topic(names.ACTIVITY, key_serializer="raw", value_serializer="raw")
dead_letter = app.topic(names.DEAD_LETTER, key_serializer="raw", value_serializer="raw")
track(app, "ingest")


async def ingest(raws: list[bytes]) -> None:
    processed("ingest", len(raws))
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


@app.task
@supervised("ingest")
async def consume() -> None:
    await inputs.run(ingest)


if __name__ == "__main__":
    app.main()
