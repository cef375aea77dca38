"""The values the Redis adapters are built with, taken from the settings as the services take them."""

from services.common.config import settings


def store_values() -> dict:
    return dict(event_ttl=settings().isf_event_ttl, retain_years=settings().isf_retain_years)
