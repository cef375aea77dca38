"""Patient-level periods: the contribution ledger and the two ledgers built on it."""

from . import coding, indicators, points

# (namespace, contributions of a grouped activity): every ledger a grouped activity is applied to; the points
# ledger carries the coding feedback's items too (`coding.points_and_coding`)
LEDGERS = ((points.NAMESPACE, coding.points_and_coding), (indicators.NAMESPACE, indicators.indicator_contributions))
