"""Indicators service: RBF indicator numerators and denominators as deltas, unique patients in Redis."""

from isf.periods.indicators import NAMESPACE, indicator_contributions
from services.common import bootstrap, names
from services.common.ledger_service import ledger_app

app = ledger_app(bootstrap.service("indicators"), names.INDICATORS, NAMESPACE, indicator_contributions)

if __name__ == "__main__":
    app.main()
