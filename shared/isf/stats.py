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
  contains `|` decodes whole; the period (a month) follows it as for every stat (`decode_total` splits at the last
  `|`).
`encode_stat` and `decode_stat` are the one codec: every stat key is written by the first (`str(stat)` calls it)
and read by the second, which raises `StatError` naming any key it cannot read, so a key of another layout is
never read as something else or silently left out. Callers that must go on past a bad key (settlement sets such a
batch aside: `isf.stages.parse_delta_batch`) catch `StatError` themselves. The Lua totals script reads the HF of a
point stat by the same layout (second field after the year).
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
        return encode_stat(self)

    def suppressed(self) -> "PointStat":
        return PointStat("S", self.year, self.hf, self.sector, self.system, self.code, self.residence)


@dataclass(frozen=True, slots=True)
class IndicatorStat:
    year: int
    hf: str
    name: str  # "1|num", "9|den", "patients|somatic"

    def __str__(self) -> str:
        return encode_stat(self)


@dataclass(frozen=True, slots=True)
class CodingStat:
    year: int
    hf: str
    sector: str
    measure: str  # "drg", "sq", "cc" or "err"
    detail: str = ""  # err: `<rtc>|<code>|<source>`

    def __str__(self) -> str:
        return encode_stat(self)

    @property
    def error(self) -> tuple[str, str, str]:
        """(return code, the code that failed, source id) of an `err` stat."""
        rtc, code, source = self.detail.split("|", 2)
        return rtc, code, source


Stat = PointStat | IndicatorStat | CodingStat
POINT_KINDS = ("P", "S", "R", "N", "H")
KINDS = (*POINT_KINDS, "I", "C")
# the layout of each kind, as error messages name it
LAYOUTS = {
    **{k: f"{k}|year|hf|sector|system|code|residence" for k in POINT_KINDS},
    "I": "I|year|hf|<indicator>|num, I|year|hf|<indicator>|den or I|year|hf|patients|<population>",
    "C": "C|year|hf|sector|<measure> or C|year|hf|sector|err|<rtc>|<code>|<source>",
}


class StatError(ValueError):
    """A stat key that is not of the layout of its kind (`LAYOUTS`), or a stat that cannot be written as one."""


def encode_stat(stat: Stat) -> str:
    """The key of a stat. Refuses a stat whose key would not decode back to it (a `|` inside a field that is not
    the last, an unknown kind, an `err` coding stat without its three details)."""
    if isinstance(stat, PointStat):
        s = stat
        key = f"{s.kind}|{s.year}|{s.hf}|{s.sector}|{s.system}|{s.code}|{s.residence}"
        if key.count("|") != 6 or s.kind not in POINT_KINDS:  # one C call on the hot path of every point delta
            raise StatError(f"point stat {s!r} cannot be written as {LAYOUTS['P']}")
        return key
    if isinstance(stat, IndicatorStat):
        key = f"I|{stat.year}|{stat.hf}|{stat.name}"
        if key.count("|") != 4:
            raise StatError(f"indicator stat {stat!r} cannot be written as {LAYOUTS['I']}")
        return key
    c = stat
    head = f"C|{c.year}|{c.hf}|{c.sector}|{c.measure}"
    fits = head.count("|") == 4 and (c.detail.count("|") >= 2 if c.measure == "err" else not c.detail)
    if not fits:
        raise StatError(f"coding stat {c!r} cannot be written as {LAYOUTS['C']}")
    return f"{head}|{c.detail}" if c.detail else head


def decode_stat(key: str) -> Stat:
    """The stat a key names; `StatError` naming the key when it is not of the layout of a known kind."""
    return _decode(key.split("|"), key)


def decode_total(key: str) -> tuple[Stat, str]:
    """`<stat>|<period>` -> (stat, period); `StatError` naming the whole key when its stat cannot be read."""
    f = key.split("|")
    if len(f) < 2:
        raise StatError(f"total key {key!r}: no period after its stat")
    return _decode(f[:-1], key), f[-1]


def _decode(f: list[str], key: str) -> Stat:
    kind = f[0]
    n = len(f)
    if kind in POINT_KINDS:
        if n != 7:
            raise StatError(f"stat key {key!r}: {n} fields where a {kind} stat has 7 ({LAYOUTS[kind]})")
        return PointStat(kind, _year(f, key), f[2], f[3], f[4], f[5], f[6])
    if kind == "I":
        if n != 5:
            raise StatError(f"stat key {key!r}: {n} fields where an indicator stat has 5 ({LAYOUTS['I']})")
        return IndicatorStat(_year(f, key), f[2], f"{f[3]}|{f[4]}")
    if kind == "C":
        err = n > 4 and f[4] == "err"
        if (n < 8) if err else (n != 5):
            want = "8 or more (an error and its return code, code and source)" if err else "5"
            raise StatError(f"stat key {key!r}: {n} fields where a coding stat has {want} ({LAYOUTS['C']})")
        return CodingStat(_year(f, key), f[2], f[3], f[4], "|".join(f[5:]))
    raise StatError(f"stat key {key!r}: unknown kind {kind!r} (known: {', '.join(KINDS)})")


def _year(f: list[str], key: str) -> int:
    try:
        return int(f[1])
    except ValueError:
        raise StatError(f"stat key {key!r}: year {f[1]!r} is not a number") from None


def year_of(stat_text: str) -> int:
    """The rule year of a stat key, without a full decode (hot path: a year's totals)."""
    try:
        return int(stat_text.split("|", 2)[1])
    except (IndexError, ValueError):
        raise StatError(f"stat key {stat_text!r}: no year in its second field") from None


def point_totals(rows: Rows, kind: str = "P") -> Iterator[tuple[PointStat, str, int, int]]:
    """(stat, period, micro-points, count) of the point totals of one kind (earned by default)."""
    for key, pts, cnt in rows:
        if key[0] == kind:
            stat, period = decode_total(key)
            yield stat, period, pts, cnt  # type: ignore[misc]


def coding_totals(rows: Rows) -> Iterator[tuple[CodingStat, str, int, int]]:
    """(stat, month, micro-points, count) of the coding feedback's totals."""
    for key, pts, cnt in rows:
        if key[0] == "C":
            stat, period = decode_total(key)
            yield stat, period, pts, cnt  # type: ignore[misc]


def indicator_totals(rows: Rows) -> Iterator[tuple[IndicatorStat, str, int]]:
    """(stat, period, count) of the indicator totals."""
    for key, _pts, cnt in rows:
        if key[0] == "I":
            stat, period = decode_total(key)
            yield stat, period, cnt  # type: ignore[misc]
