"""Rule years: definition data, weights, STG and TFG tables and money parameters, per year, as data; this module
reads a year's files and puts them together (`rule_year`), the rows' types and meaning live beside it: `stg` (STG
rows and their criteria), `supplements` (point supplements and theirs), `params` (the rest of params.json),
`weightlist` (the directorate's weight lists).

The project's illustrative sets live in `data/<year>/`. An edge (the CLI, a service's configuration) may point a
year at official definition data or an official weight list instead with `use_sources`; this module reads no
environment.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property, lru_cache
from pathlib import Path

from ..grouping.tables import Definitions, load_definitions
from .cells import RuleError, dec
from .params import (
    DrgDeduction,
    NotInIsf,
    RbfParams,
    SectorMoney,
    UniqueIndicator,
    parse_block_funded,
    parse_deductions,
    parse_indicators,
    parse_not_in_isf,
    parse_rbf,
)
from .stg import StgIndex, StgRule, parse_stg_rows
from .supplements import Supplement, parse_supplements

DATA = Path(__file__).with_name("data")
YEARS = (2025, 2026)
MICRO = Decimal("0.000001")  # DRG points are rounded to a millionth (`grouping.activity.drg_points`)


@dataclass(frozen=True)
class DrgWeight:
    drg: str
    name: str
    weight: Decimal
    trim_days: int
    per_day_weight: Decimal
    acute_factor: Decimal


@dataclass(frozen=True)
class Tfg:
    tfg: str
    name: str
    period: str
    weight: Decimal
    finances: bool
    members: frozenset[tuple[str, str]]  # (system, code)


@dataclass(frozen=True)
class RuleYear:
    year: int
    definitions: Definitions
    weights: dict[str, DrgWeight]
    stg_rules: tuple[StgRule, ...]
    tfgs: dict[str, Tfg]
    tfg_of_member: dict[tuple[str, str], Tfg]
    sectors: dict[str, SectorMoney]
    isf_debtors: frozenset[str]
    rbf: RbfParams
    service_types: dict[str, str]  # DRG -> DRG service type (DRG-tjenestetype), where the project needs it
    drg_deductions: tuple[DrgDeduction, ...] = ()
    supplements: tuple[Supplement, ...] = ()
    # (sector, care level) pairs financed by the block grant alone (`block_funded` in params.json): their DRG and
    # weight are kept as management information, never as ISF money
    block_funded: frozenset[tuple[str, str]] = frozenset()
    indicators: tuple[UniqueIndicator, ...] = ()
    not_in_isf: tuple[NotInIsf, ...] = ()

    @cached_property
    def stg_index(self) -> StgIndex:
        """The STG rows compiled to their criteria and filed by what triggers them (`isf.rules.stg`)."""
        return StgIndex(self.stg_rules)

    @cached_property
    def deductions_by_drg(self) -> dict[str, tuple[DrgDeduction, ...]]:
        """DRG -> the point deductions that name it, in params.json order (most DRGs have none)."""
        out: dict[str, list[DrgDeduction]] = {}
        for d in self.drg_deductions:
            for drg in d.drgs:
                out.setdefault(drg, []).append(d)
        return {k: tuple(v) for k, v in out.items()}

    @cached_property
    def base_points(self) -> dict[str, tuple[Decimal, Decimal]]:
        """DRG -> its points (planned, acute) rounded to a millionth: a stay within the trim point and
        without deductions earns exactly these."""
        return {
            drg: (w.weight.quantize(MICRO), (w.weight * w.acute_factor).quantize(MICRO))
            for drg, w in self.weights.items()
        }

    @cached_property
    def stgs(self) -> dict[str, StgRule]:
        """The first row of each STG: its name, period and weight (all rows of one STG share them)."""
        out: dict[str, StgRule] = {}
        for r in self.stg_rules:
            out.setdefault(r.stg, r)
        return out


def _csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        raise RuleError(f"missing rule file {path}")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


def _stg_rows(path: Path, year: int) -> tuple[StgRule, ...]:
    return parse_stg_rows(_csv(path), year)


def load_weights(path: Path) -> dict[str, DrgWeight]:
    """The documented weight-list CSV (drg, name, weight, trim_days, per_day_weight, acute_factor), or a
    list in the directorate's own format (CSV or Excel), read through `weightlist.import_weight_list`."""
    from .weightlist import WeightListError, import_weight_list

    path = Path(path)
    documented = (
        path.suffix.lower() == ".csv"
        and path.exists()
        and path.read_text(encoding="utf-8-sig").split("\n", 1)[0].strip().startswith("drg,name,weight")
    )
    try:
        rows = _csv(path) if documented else import_weight_list(path)
    except WeightListError as exc:
        raise RuleError(str(exc)) from exc
    out = {}
    for i, r in enumerate(rows, start=2):
        where = f"{path.name} line {i}"
        out[r["drg"]] = DrgWeight(
            r["drg"],
            r.get("name", ""),
            dec(r["weight"], where),
            int(r.get("trim_days") or 0),
            dec(r.get("per_day_weight") or "0", where),
            dec(r.get("acute_factor") or "1", where),
        )
    return out


_WEIGHTS: dict[int, Path] = {}
_DEFINITIONS: dict[int, Path] = {}
_DEFINITION_OPTIONS: dict[int, dict[str, str]] = {}


def use_sources(
    weights: Mapping[int, Path] | None = None,
    definitions: Mapping[int, Path] | None = None,
    definition_options: Mapping[int, Mapping[str, str]] | None = None,
) -> None:
    """Point rule years at official weight lists / definition data (years not named keep the illustrative sets);
    `definition_options` per year are `load_definitions`' `fmt` and `pair_category`. Rule years already loaded are
    loaded again on next use."""
    _WEIGHTS.clear()
    _WEIGHTS.update(weights or {})
    _DEFINITIONS.clear()
    _DEFINITIONS.update(definitions or {})
    _DEFINITION_OPTIONS.clear()
    _DEFINITION_OPTIONS.update({year: dict(o) for year, o in (definition_options or {}).items()})
    rule_year.cache_clear()
    data_version.cache_clear()


def weights_path(year: int) -> Path:
    return _WEIGHTS.get(year) or DATA / str(year) / "weights.csv"


def definitions_path(year: int) -> Path:
    return _DEFINITIONS.get(year) or DATA / str(year) / "definitions"


@lru_cache(maxsize=None)
def rule_year(year: int) -> RuleYear:
    if year not in YEARS:
        raise RuleError(f"no rules for year {year}; known rule years: {', '.join(map(str, YEARS))}")
    folder = DATA / str(year)
    params = json.loads((folder / "params.json").read_text(encoding="utf-8"))
    stg_rules = _stg_rows(folder / "stg.csv", year)
    tfg_rows = _csv(folder / "tfg.csv")
    tfgs: dict[str, Tfg] = {}
    for r in tfg_rows:
        t = tfgs.get(r["tfg"])
        members = (t.members if t else frozenset()) | {(r["member_system"], r["member_code"])}
        tfgs[r["tfg"]] = Tfg(
            r["tfg"],
            r["name"],
            r["period"],
            dec(r["weight"], f"tfg.csv {r['tfg']}"),
            r["finances"] == "1",
            frozenset(members),
        )
    tfg_of_member: dict[tuple[str, str], Tfg] = {}
    for t in tfgs.values():
        for m in t.members:
            if m in tfg_of_member:
                raise RuleError(f"tfg.csv {year}: {m} is a member of both {tfg_of_member[m].tfg} and {t.tfg}")
            tfg_of_member[m] = t
    return RuleYear(
        year=year,
        definitions=load_definitions(definitions_path(year), **_DEFINITION_OPTIONS.get(year, {})),
        weights=load_weights(weights_path(year)),
        stg_rules=stg_rules,
        tfgs=tfgs,
        tfg_of_member=tfg_of_member,
        sectors={
            k: SectorMoney(Decimal(v["unit_price_nok"]), Decimal(v["isf_share"])) for k, v in params["sectors"].items()
        },
        isf_debtors=frozenset(params["isf_debtors"]),
        rbf=parse_rbf(params["rbf"]),
        service_types={r["drg"]: r["service_type"] for r in _csv(folder / "service_types.csv")},
        drg_deductions=parse_deductions(params),
        supplements=parse_supplements(params),
        block_funded=parse_block_funded(params),
        indicators=parse_indicators(params),
        not_in_isf=parse_not_in_isf(params),
    )


@lru_cache(maxsize=None)
def data_version(year: int) -> str:
    """The version of a rule year's data as loaded here: the first 16 hex digits of a SHA-256 over the content
    of every file of its folder, the official definitions and weight list it points at, if any, and their
    options. Every item a stage emits names the version it was produced under; a stage that has other data sets
    such an item aside."""
    from ..grouping.tables import _content_digest

    if year not in YEARS:
        raise RuleError(f"no rules for year {year}; known rule years: {', '.join(map(str, YEARS))}")
    folder = DATA / str(year)
    h = hashlib.sha256()
    for part in (definitions_path(year), weights_path(year)):
        h.update(_content_digest(Path(part).resolve()).encode())
    h.update(json.dumps(_DEFINITION_OPTIONS.get(year, {}), sort_keys=True).encode())
    for f in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(folder)).encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:16]


def data_versions() -> dict[str, str]:
    """Rule year -> `data_version`, for every rule year known here."""
    return {str(y): data_version(y) for y in YEARS}
