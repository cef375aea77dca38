"""Rule years: definition data, weights, STG and TFG tables and money parameters, per year, as data.

The project's illustrative sets live in `data/<year>/`. An edge (the CLI, a service's configuration) may point a
year at official definition data or an official weight list instead with `use_sources`; this module reads no
environment.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property, lru_cache
from pathlib import Path

from ..grouping.tables import Definitions, load_definitions

DATA = Path(__file__).with_name("data")
YEARS = (2025, 2026)


class RuleError(ValueError):
    pass


@dataclass(frozen=True)
class DrgWeight:
    drg: str
    name: str
    weight: Decimal
    trim_days: int
    per_day_weight: Decimal
    acute_factor: Decimal


@dataclass(frozen=True)
class StgRule:
    stg: str
    name: str
    period: str
    weight: Decimal
    source: str  # "episode" or "prescription"
    sector: str
    care_level: str
    special_code: str
    procedure: str
    atc_prefix: str
    indication_prefix: str


@dataclass(frozen=True)
class Tfg:
    tfg: str
    name: str
    period: str
    weight: Decimal
    finances: bool
    members: frozenset[tuple[str, str]]  # (system, code)


@dataclass(frozen=True)
class SectorMoney:
    unit_price_nok: Decimal
    isf_share: Decimal


@dataclass(frozen=True)
class RbfParams:
    """RBF of one budget year: budget, distribution key (shares summing to 1), indicator weights, targets and
    staircase steps (per indicator: (achievement in percent from which it earns, multiple of x), ascending)."""

    budget_nok: Decimal
    key: dict[str, Decimal]
    weights: dict[str, Decimal]
    targets: dict[str, Decimal]  # percent
    steps: dict[str, tuple[tuple[Decimal, int], ...]]


def _rbf(p: dict) -> RbfParams:
    """The `rbf` block of params.json; a key given as base-grant figures becomes their exact ratios."""
    basis = {k: Decimal(v) for k, v in (p.get("base_grant_mnok") or p["key"]).items()}
    total = sum(basis.values())
    return RbfParams(
        Decimal(p["budget_nok"]),
        {k: v / total for k, v in basis.items()},
        {k: Decimal(v) for k, v in p["weights"].items()},
        {k: Decimal(v) for k, v in p["targets"].items()},
        {i: tuple(sorted((Decimal(t), int(m)) for t, m in s.items())) for i, s in p["steps"].items()},
    )


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


def _dec(text: str, where: str) -> Decimal:
    try:
        return Decimal(text)
    except Exception as exc:
        raise RuleError(f"{where}: not a number: {text!r}") from exc


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
            _dec(r["weight"], where),
            int(r.get("trim_days") or 0),
            _dec(r.get("per_day_weight") or "0", where),
            _dec(r.get("acute_factor") or "1", where),
        )
    return out


_WEIGHTS: dict[int, Path] = {}
_DEFINITIONS: dict[int, Path] = {}


def use_sources(weights: Mapping[int, Path] | None = None, definitions: Mapping[int, Path] | None = None) -> None:
    """Point rule years at official weight lists / definition data (years not named keep the illustrative sets);
    rule years already loaded are loaded again on next use."""
    _WEIGHTS.clear()
    _WEIGHTS.update(weights or {})
    _DEFINITIONS.clear()
    _DEFINITIONS.update(definitions or {})
    rule_year.cache_clear()


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
    stg_rules = tuple(
        StgRule(
            r["stg"],
            r["name"],
            r["period"],
            _dec(r["weight"], f"stg.csv {r['stg']}"),
            r["source"],
            r["sector"],
            r["care_level"],
            r["special_code"],
            r["procedure"],
            r["atc_prefix"],
            r["indication_prefix"],
        )
        for r in _csv(folder / "stg.csv")
    )
    tfg_rows = _csv(folder / "tfg.csv")
    tfgs: dict[str, Tfg] = {}
    for r in tfg_rows:
        t = tfgs.get(r["tfg"])
        members = (t.members if t else frozenset()) | {(r["member_system"], r["member_code"])}
        tfgs[r["tfg"]] = Tfg(
            r["tfg"],
            r["name"],
            r["period"],
            _dec(r["weight"], f"tfg.csv {r['tfg']}"),
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
        definitions=load_definitions(definitions_path(year)),
        weights=load_weights(weights_path(year)),
        stg_rules=stg_rules,
        tfgs=tfgs,
        tfg_of_member=tfg_of_member,
        sectors={
            k: SectorMoney(Decimal(v["unit_price_nok"]), Decimal(v["isf_share"])) for k, v in params["sectors"].items()
        },
        isf_debtors=frozenset(params["isf_debtors"]),
        rbf=_rbf(params["rbf"]),
        service_types={r["drg"]: r["service_type"] for r in _csv(folder / "service_types.csv")},
    )
