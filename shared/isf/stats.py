"""Statistic keys: what a delta counts into, as value types with one text format and one parse.

A settled total is keyed `<stat>|<period>`. Two kinds of stat:
- points, `P|year|hf|sector|system|code|residence` (earned) or, as management information that is never money,
  `S|...` (suppressed: points a member DRG/STG would have earned that moved to its TFG), `R|...` (block-funded
  stays, with the DRG's weight), `N|...` (activity outside ISF's debtors, counted only) and `H|...` (an H-resept
  provider's STG patient-periods moved to the HF that finances its drugs; `hf` is the provider). `hf` is the
  producing (or, for a TFG patient-period, the credited) HF; `residence` the RHF the patient lives in
  ("sørge for").
- indicators, `I|year|hf|name` where `name` is `<indicator>|num`, `<indicator>|den` or
  `patients|<population>`.
- coding feedback, `C|year|hf|sector|measure` or `C|year|hf|sector|err|<rtc>|<code>|<source>` (`isf.coding`): a
  DRG episode's points and count (`drg`), its points squared (`sq`), whether it has complications (`cc`), and an
  episode in an error DRG with its return code and the code that failed. The source id is last, so an id that
  contains `|` parses whole; the period (a month) follows it as for every stat (`parse_total` splits at the last
  `|`).
Everything that reads totals parses them here; the Lua totals script reads the HF of a point stat by
the same layout (second field after the year).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

Rows = Iterable[tuple[str, int, int]]  # (`stat|period`, micro-points, count)


@dataclass(frozen=True, slots=True)
class PointStat:
    kind: str  # "P" earned; "S", "R", "N", "H": management information (module docstring)
    year: int
    hf: str
    sector: str
    system: str  # DRG, STG, TFG, SUPP (point supplement)
    code: str
    residence: str  # RHF id of the patient's home region

    def __str__(self) -> str:
        return f"{self.kind}|{self.year}|{self.hf}|{self.sector}|{self.system}|{self.code}|{self.residence}"

    def suppressed(self) -> "PointStat":
        return PointStat("S", self.year, self.hf, self.sector, self.system, self.code, self.residence)


@dataclass(frozen=True, slots=True)
class IndicatorStat:
    year: int
    hf: str
    name: str  # "1|num", "9|den", "patients|somatic"

    def __str__(self) -> str:
        return f"I|{self.year}|{self.hf}|{self.name}"


@dataclass(frozen=True, slots=True)
class CodingStat:
    year: int
    hf: str
    sector: str
    measure: str  # "drg", "sq", "cc" or "err"
    detail: str = ""  # err: `<rtc>|<code>|<source>`

    def __str__(self) -> str:
        head = f"C|{self.year}|{self.hf}|{self.sector}|{self.measure}"
        return f"{head}|{self.detail}" if self.detail else head

    @property
    def error(self) -> tuple[str, str, str]:
        """(return code, the code that failed, source id) of an `err` stat."""
        rtc, code, source = self.detail.split("|", 2)
        return rtc, code, source


Stat = PointStat | IndicatorStat | CodingStat
POINT_KINDS = ("P", "S", "R", "N", "H")


class StatError(ValueError):
    pass


def parse_stat(text: str) -> Stat:
    f = text.split("|")
    try:
        if f[0] in POINT_KINDS and len(f) == 7:
            return PointStat(f[0], int(f[1]), f[2], f[3], f[4], f[5], f[6])
        if f[0] == "I" and len(f) >= 4:
            return IndicatorStat(int(f[1]), f[2], "|".join(f[3:]))
        if f[0] == "C" and (len(f) == 5 or (len(f) >= 8 and f[4] == "err")):
            return CodingStat(int(f[1]), f[2], f[3], f[4], "|".join(f[5:]))
    except ValueError:
        pass
    raise StatError(f"not a statistic key: {text!r}")


def parse_total(key: str) -> tuple[Stat, str]:
    """`<stat>|<period>` -> (stat, period)."""
    stat, _, period = key.rpartition("|")
    return parse_stat(stat), period


def year_of(stat_text: str) -> int:
    """The rule year of a stat key, without a full parse (hot path: the totals' expiry)."""
    return int(stat_text.split("|", 2)[1])


def point_totals(rows: Rows, kind: str = "P") -> Iterator[tuple[PointStat, str, int, int]]:
    """(stat, period, micro-points, count) of the point totals of one kind (earned by default)."""
    for key, pts, cnt in rows:
        if key[0] == kind:
            stat, period = parse_total(key)
            yield stat, period, pts, cnt  # type: ignore[misc]


def coding_totals(rows: Rows) -> Iterator[tuple[CodingStat, str, int, int]]:
    """(stat, month, micro-points, count) of the coding feedback's totals."""
    for key, pts, cnt in rows:
        if key[0] == "C":
            stat, period = parse_total(key)
            yield stat, period, pts, cnt  # type: ignore[misc]


def indicator_totals(rows: Rows) -> Iterator[tuple[IndicatorStat, str, int]]:
    """(stat, period, count) of the indicator totals."""
    for key, _pts, cnt in rows:
        if key[0] == "I":
            stat, period = parse_total(key)
            yield stat, period, cnt  # type: ignore[misc]
