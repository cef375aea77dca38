"""Patient-level periods: the contribution ledger and the two ledgers built on it."""

from . import indicators, points

# (namespace, contributions of a grouped activity): every ledger a grouped activity is applied to
LEDGERS = ((points.NAMESPACE, points.point_contributions), (indicators.NAMESPACE, indicators.indicator_contributions))
