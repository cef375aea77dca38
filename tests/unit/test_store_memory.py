"""The store contract (tests/store_contract.py) against the in-memory twins that replay uses."""

from isf import stages
from isf.ingest import MemoryIngestLedger
from isf.periods.ledger import MemoryLedger
from isf.settlement.statements import indicator_sums
from isf.settlement.totals import Totals
from isf.settlement.views import view_sums
from tests.store_contract import DEAD_TTL, StoreContract


class TestMemoryStores(StoreContract):
    def fresh(self, clock=None):
        self.totals = Totals()
        return MemoryIngestLedger(clock, DEAD_TTL), MemoryLedger(clock), self.totals

    def drive(self, coro):
        return stages.run_now(coro)

    def rows(self) -> list:
        return list(self.totals.rows())

    def sums(self) -> tuple:
        return view_sums(self.totals.rows())

    def indicators(self) -> dict:
        return indicator_sums(self.totals.rows())
