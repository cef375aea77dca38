"""Aggregator service: DRG points and STG/TFG patient-periods as point deltas, with the coding feedback's
items beside them (`isf.periods.coding`), state in Redis."""

from isf.periods.coding import points_and_coding
from isf.periods.points import NAMESPACE
from services.common import bootstrap, names
from services.common.ledger_service import ledger_app

app = ledger_app(bootstrap.service("aggregator"), names.POINTS, NAMESPACE, points_and_coding)

if __name__ == "__main__":
    app.main()
