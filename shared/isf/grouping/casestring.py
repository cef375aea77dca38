"""The reference grouper's 165-field grouping string and its golden-case CSV."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from .features import GroupingCase

_SEX = {"1": "M", "2": "F"}


def _int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        return 0


def parse_grouping_string(line: str) -> GroupingCase:
    fields = [x.strip() for x in line.replace("*", "").split(",")]
    fields += [""] * (165 - len(fields))
    pairs = []
    for k in range(30):
        a, b = fields[5 + 2 * k], fields[6 + 2 * k]
        if k < 2 or a or b:
            pairs.append((a, b))
    # The reference reads procedure slots 65..163 only; we read the 100th slot too (FORMAT.md Q8).
    procedures = tuple(p for p in fields[65:165] if p)
    return GroupingCase(
        sex=_SEX.get(fields[0], "U"),
        age_days=_int(fields[1]),
        discharge=fields[2].upper(),
        los_days=_int(fields[3]),
        pairs=tuple(pairs),
        procedures=procedures,
    )


@dataclass(frozen=True)
class GoldenCase:
    number: str
    drg: str
    ord: str
    rtc: str
    case: GroupingCase


def read_golden(path: Path) -> list[GoldenCase]:
    with Path(path).open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    return [
        GoldenCase(
            r["RegelNr"].strip(),
            r["DRGKode"].strip(),
            r["DRGGrupperingsregel"].strip(),
            r["Returkode"].strip(),
            parse_grouping_string(r["DRGGrupperingsstreng"]),
        )
        for r in rows
    ]
