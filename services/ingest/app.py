"""Ingest service: validate, pseudonymise, dead-letter bad input, pass on one current version per source."""

from __future__ import annotations

import logging
import time

from isf import stages
from isf.periods.calendar import first_open_year
from services.common import bootstrap, names
from services.common.config import pseudonym_key
from services.common.runtime import dumps, processed, publish, supervised

log = logging.getLogger("isf.ingest")
KEY = pseudonym_key()  # refuses to start without a key outside the embedded default
svc = bootstrap.service("ingest", plain_input=(names.EPISODES, names.PRESCRIPTIONS))
app = svc.app
RETAIN = svc.settings.isf_retain_years
activity = svc.topic(names.ACTIVITY)
dead_letter = svc.topic(names.DEAD_LETTER)


async def ingest(raws: list[bytes]) -> None:
    processed("ingest", len(raws))
    out = await stages.ingest(raws, KEY, svc.store, open_from=first_open_year(time.time(), RETAIN), retain=RETAIN)
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
    await svc.plain_input().run(ingest)


if __name__ == "__main__":
    app.main()
