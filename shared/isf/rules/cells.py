"""Cells of the rule files read into values, or a `RuleError` that says which file, line and cell."""

from __future__ import annotations

from datetime import date
from decimal import Decimal


class RuleError(ValueError):
    pass


def dec(text: str, where: str) -> Decimal:
    try:
        return Decimal(text)
    except Exception as exc:
        raise RuleError(f"{where}: not a number: {text!r}") from exc


def day(text: str, where: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError as exc:
        raise RuleError(f"{where}: not a date (yyyy-mm-dd): {text!r}") from exc


def icd(codes) -> tuple[str, ...]:
    """ICD-10 codes (or their prefixes) without their dot, as activities are compared against them."""
    return tuple(c.replace(".", "") for c in codes)


def filled(value) -> bool:
    """Whether a rule's cell says something: an empty cell (no text, no date, no number, no codes) means "any"."""
    return value is not None and value != "" and value != () and value != frozenset()
