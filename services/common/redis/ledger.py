"""The contribution ledgers on Redis (`isf.stages.LedgerStore`, twin of `isf.periods.ledger.MemoryLedger`): per
patient and namespace one document (`lua/ledger.lua`), under the patient pseudonym's hash tag, since a TFG
patient-period spans HFs."""

from __future__ import annotations

import json

from isf.events import Delta, DeltaBatch
from isf.stages import ApplyItem

from .. import names
from .adapter import Adapter
from .scripts import LEDGER
from .transport import text


class ContributionLedger(Adapter):
    async def apply(self, items: list[ApplyItem]) -> list[DeltaBatch | None]:
        """(namespace, patient, source, revision, contributions, closes-at) -> the deltas it caused, None if
        outdated. A patient's ledger keys share the patient's hash tag (a TFG patient-period spans HFs)."""
        out = await self.transport.run(
            LEDGER,
            [
                (
                    [names.ledger(patient, ns)],
                    [ns, src, rev, json.dumps(new.to_json(), separators=(",", ":")), close, self.now()],
                )
                for ns, patient, src, rev, new, close in items
            ],
        )
        batches: list[DeltaBatch | None] = []
        for (ns, _patient, src, ver, _new, _close), (status, payload) in zip(items, out):
            if text(status) == "old":
                batches.append(None)
                continue
            rows = json.loads(payload)
            rows = rows if isinstance(rows, list) else []
            batches.append(
                DeltaBatch(
                    id=f"{ns}:{src}:{ver}",
                    deltas=[Delta(stat=s, period=p, points_micro=int(a), count=int(c)) for s, p, a, c in rows],
                )
            )
        return batches
