"""The contribution ledgers on Redis (`isf.stages.LedgerStore`, twin of `isf.periods.ledger.MemoryLedger`): per
patient one hash holding both ledgers (`lua/ledger.lua`), under the patient pseudonym's hash tag, since a TFG
patient-period spans HFs. A call reads and writes the entries its event touches, not the patient's history.

Stats, periods and groups travel to the script as ids of a shared vocabulary (`lua/vocab.lua`): ids never
change, so each process keeps those it has met and asks Redis only about new texts.
"""

from __future__ import annotations

import functools
import struct
from datetime import date

from isf.events import Delta, DeltaBatch
from isf.periods.calendar import tertial_of_score
from isf.periods.ledger import Contributions
from isf.stages import ApplyItem

from .. import names
from .adapter import Adapter
from .scripts import LEDGER, VOCAB
from .transport import text

_DAY0 = date(2000, 1, 1).toordinal()


@functools.cache
def day_of(score: int) -> int:
    """An activity date (yyyymmdd) as days since 2000: ordered as the dates, and three bytes in msgpack."""
    return date(score // 10000, score // 100 % 100, score % 100).toordinal() - _DAY0


def _ints(values: list[int]) -> bytes:
    return struct.pack(f"<{len(values)}q", *values)


class ContributionLedger(Adapter):
    def __init__(self, client, **values) -> None:
        super().__init__(client, **values)
        self._ids: dict[str, int] = {}  # the vocabulary as far as this process has met it (`_intern`)
        self._texts: dict[int, str] = {}

    async def _intern(self, texts: set[str]) -> None:
        """Give every text an id of the shared vocabulary, asking Redis only about texts not met yet."""
        unknown = sorted(t for t in texts if t not in self._ids)
        if not unknown:
            return
        got = (await self.transport.run(VOCAB, [([names.VOCAB_IDS, names.VOCAB_TEXTS], unknown)]))[0]
        for t, i in zip(unknown, got):
            self._ids[t], self._texts[int(i)] = int(i), t

    async def _read_texts(self, ids: set[int]) -> None:
        """The texts of vocabulary ids another process gave."""
        unknown = sorted(i for i in ids if i not in self._texts)
        if unknown:
            for i, t in zip(unknown, await self.r.hmget(names.VOCAB_TEXTS, unknown)):
                if t is None:  # the vocabulary was lost while the ledgers were kept: nothing can be read right
                    raise RuntimeError(f"ledger vocabulary id {i} is not in {names.VOCAB_TEXTS}")
                self._texts[i] = text(t)
                self._ids[text(t)] = i

    def _coded(self, new: Contributions) -> tuple[bytes, bytes]:
        """A source's items and units as the ledger script reads them (8-byte integers), texts as vocabulary ids;
        the tertial a unit credited to its first member goes with each member (computed here, never in Lua)."""
        ids = self._ids
        items = [x for d in new.items for x in (ids[d.stat], ids[d.period], d.points_micro, d.count)]
        units = [
            x
            for u, score in new.units
            for x in (
                ids[u.group],
                ids[u.period],
                0 if u.stat == u.group else ids[u.stat],
                u.points_micro,
                ids[tertial_of_score(score)] if u.by_first else 0,
                day_of(score),
            )
        ]
        return _ints(items), _ints(units)

    async def apply(self, items: list[ApplyItem]) -> list[DeltaBatch | None]:
        """Each item's deltas (what it changed), None if it is outdated."""
        texts: set[str] = set()
        for i in items:
            texts.update(x for d in i.contributions.items for x in (d.stat, d.period))
            for u, score in i.contributions.units:
                texts.update((u.group, u.period, u.stat))
                if u.by_first:
                    texts.add(tertial_of_score(score))
        await self._intern(texts)
        out = await self.transport.run(
            LEDGER,
            [
                (
                    [names.ledger(i.patient)],
                    [f"{i.namespace}:{i.source}", i.revision, *self._coded(i.contributions), i.closes_at, self.now()],
                )
                for i in items
            ],
        )
        answers = [None if text(status) == "old" else flat for status, flat in out]
        await self._read_texts({x for flat in answers if flat for j in range(0, len(flat), 4) for x in flat[j : j + 2]})
        texts_of = self._texts
        batches: list[DeltaBatch | None] = []
        for i, rows in zip(items, answers):
            if rows is None:
                batches.append(None)
                continue
            batches.append(
                DeltaBatch(
                    id=f"{i.namespace}:{i.source}:{i.revision}",
                    deltas=[
                        Delta(
                            stat=texts_of[rows[j]],
                            period=texts_of[rows[j + 1]],
                            points_micro=rows[j + 2],
                            count=rows[j + 3],
                        )
                        for j in range(0, len(rows), 4)
                    ],
                )
            )
        return batches
