"""Aggregator service: DRG points and STG/TFG patient-periods as point deltas, state in Redis."""

from isf.periods.points import NAMESPACE, point_contributions
from services.common import names
from services.common.ledger_service import ledger_app

app = ledger_app("isf-aggregator", names.POINTS, NAMESPACE, point_contributions)

if __name__ == "__main__":
    app.main()
