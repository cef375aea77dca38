"""The error of definition data that cannot be used, shared by the readers of both table formats."""

from __future__ import annotations


class DefinitionError(ValueError):
    """Definition data that cannot be used: says which table, row and field."""

    def __init__(self, table: str, row: int | None, fieldname: str | None, problem: str):
        where = table + (f" row {row}" if row is not None else "") + (f" field {fieldname!r}" if fieldname else "")
        super().__init__(f"{where}: {problem}")
