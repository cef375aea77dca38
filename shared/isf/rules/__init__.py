"""Rule years: definition data, weights, STG and TFG tables and money parameters, per year, as data.

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
from datetime import date
from decimal import Decimal
from functools import cached_property, lru_cache
from pathlib import Path
from typing import NamedTuple

from ..grouping.tables import Definitions, load_definitions

DATA = Path(__file__).with_name("data")
YEARS = (2025, 2026)
MICRO = Decimal("0.000001")  # DRG points are rounded to a millionth (`grouping.activity.drg_points`)


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
    care_level: str  # one care level, or several joined by "|"; "" = any
    special_code: str
    procedure: str
    atc_prefix: str
    indication_prefix: str
    hdg: str = ""  # main diagnostic group (HDG) of the main condition, e.g. "03"; "" = any
    valid_from: date | None = None  # first day the row is in force; None = the whole rule year
    valid_to: date | None = None  # last day the row is in force (inclusive); None = to the end of the year
    atc: frozenset[str] = frozenset()  # exact ATC codes, one of which the activity carries; empty = any
    basis: str = ""  # which seed gives the row, and what in it is an inference

    def in_force(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)


class StgIndex(NamedTuple):
    """The STG rows of one source by what triggers them: positions in `RuleYear.stg_rules`, in file order."""

    always: list[int]  # rows with neither a procedure nor a special code (an ATC or indication prefix only)
    by_procedure: dict[str, list[int]]
    by_special_code: dict[str, list[int]]


@dataclass(frozen=True)
class DrgDeduction:
    """A point deduction for some cases of some DRGs (`drg_deductions` in params.json): the points are
    multiplied by `factor` when the DRG is listed, the urgency matches, the stay is shorter than
    `under_hours` and the main condition starts with one of `main_conditions` (all given conditions hold)."""

    name: str
    drgs: frozenset[str]
    factor: Decimal
    urgency: str = ""
    under_hours: Decimal | None = None
    main_conditions: tuple[str, ...] = ()


@dataclass(frozen=True)
class SupplementException:
    """Activity a point supplement leaves out (`exceptions` of a supplement in params.json): activity that
    carries one of the ATC codes (by prefix), special codes or procedures, of a patient who turns less
    than `age_in_year_below` in the activity's year when that is given."""

    name: str
    atc: tuple[str, ...] = ()
    special_codes: frozenset[str] = frozenset()
    procedures: frozenset[str] = frozenset()
    age_in_year_below: int | None = None


@dataclass(frozen=True)
class NotInIsf:
    """Activity a rule year keeps outside ISF whatever its debtor (`not_in_isf` in params.json): it is
    grouped and counted, and earns no ISF points. It matches when the main condition starts with one of
    `main_conditions` and the activity carries one of `procedures` (each condition only when given)."""

    name: str
    main_conditions: tuple[str, ...] = ()
    procedures: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Supplement:
    """A point supplement (`supplements` in params.json), earned per qualifying DRG episode as its own
    stat (system `SUPP`, code = `code`), so it shows apart from the DRG points. Conditions: sector,
    care level, a main or secondary condition starting with one of `conditions`, an age limit (the age
    the patient turns in the activity's calendar year is below `age_in_year_below`), and none of its
    `exceptions` covers the activity."""

    code: str
    name: str
    points: Decimal
    sectors: frozenset[str]
    care_levels: frozenset[str] = frozenset()
    conditions: tuple[str, ...] = ()
    age_in_year_below: int | None = None
    per_day: bool = False  # points per day of stay (at least one) instead of per episode
    exceptions: tuple[SupplementException, ...] = ()  # activity that earns no supplement


@dataclass(frozen=True)
class Tfg:
    tfg: str
    name: str
    period: str
    weight: Decimal
    finances: bool
    members: frozenset[tuple[str, str]]  # (system, code)


@dataclass(frozen=True)
class UniqueIndicator:
    """An RBF indicator over unique patients per HF (2-8; `rbf_indicators` in params.json, seed 002's appendix).
    Numerator: the patients of `population` with an ISF-counting activity that has one of `stgs` or `procedures`.
    Denominator (`denominator`, shared by the indicators that name it): the patients of `population` with an
    ISF-counting episode ("Kun tellende ISF-opphold": debtor in ISF, financed by ISF, no H-resept dispensing) and,
    where `indirect` holds, indirect activity too: the collaboration STGs are earned without the patient present,
    and their patients then count in both (numerator within denominator)."""

    id: str
    population: str  # "all", "somatic" or "phv_tsb"
    stgs: frozenset[str] = frozenset()
    procedures: frozenset[str] = frozenset()
    indirect: bool = False

    @property
    def denominator(self) -> str:
        return f"patients|{self.population}{'+indirect' if self.indirect else ''}"


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
    drg_deductions: tuple[DrgDeduction, ...] = ()
    supplements: tuple[Supplement, ...] = ()
    # (sector, care level) pairs financed by the block grant alone (`block_funded` in params.json): their DRG and
    # weight are kept as management information, never as ISF money
    block_funded: frozenset[tuple[str, str]] = frozenset()
    indicators: tuple[UniqueIndicator, ...] = ()
    not_in_isf: tuple[NotInIsf, ...] = ()

    @cached_property
    def stg_index(self) -> dict[str, StgIndex]:
        """Source ("episode" or "prescription") -> its STG rows by what triggers them (`stg_candidates`)."""
        out: dict[str, StgIndex] = {}
        for i, r in enumerate(self.stg_rules):
            ix = out.setdefault(r.source, StgIndex([], {}, {}))
            if r.procedure:
                ix.by_procedure.setdefault(r.procedure, []).append(i)
            if r.special_code:
                ix.by_special_code.setdefault(r.special_code, []).append(i)
            if not (r.procedure or r.special_code):
                ix.always.append(i)
        return out

    def stg_candidates(self, source: str, procedures, special_codes) -> list[StgRule]:
        """The STG rows an activity with these codes can match, in file order: the same rows a scan of
        `stg_rules` would test successfully, without testing the rest."""
        ix = self.stg_index.get(source)
        if ix is None:
            return []
        found = list(ix.always)
        for p in procedures:
            found += ix.by_procedure.get(p, ())
        for c in special_codes:
            found += ix.by_special_code.get(c, ())
        if not found:
            return []
        return [self.stg_rules[i] for i in sorted(set(found))]

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


def _dec(text: str, where: str) -> Decimal:
    try:
        return Decimal(text)
    except Exception as exc:
        raise RuleError(f"{where}: not a number: {text!r}") from exc


def _day(text: str, where: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError as exc:
        raise RuleError(f"{where}: not a date (yyyy-mm-dd): {text!r}") from exc


def _stg_rows(path: Path, year: int) -> tuple[StgRule, ...]:
    """stg.csv: one row per way of qualifying; `hdg`, `valid_from` and `valid_to` are optional columns.
    A row in force only part of the year (the drug logic is updated each tertial, seed 001) carries its
    dates; rows of one STG must agree on name, period and weight, which are per rule year."""
    rows: list[StgRule] = []
    for i, r in enumerate(_csv(path), start=2):
        where = f"stg.csv {year} line {i} ({r['stg']})"
        row = StgRule(
            r["stg"],
            r["name"],
            r["period"],
            _dec(r["weight"], where),
            r["source"],
            r["sector"],
            r["care_level"],
            r["special_code"],
            r["procedure"],
            r["atc_prefix"],
            r["indication_prefix"],
            r.get("hdg", ""),
            _day(r.get("valid_from", ""), where),
            _day(r.get("valid_to", ""), where),
            frozenset(c for c in r.get("atc", "").split("|") if c),
            r.get("basis", ""),
        )
        for d in (row.valid_from, row.valid_to):
            if d is not None and d.year != year:
                raise RuleError(f"{where}: {d} is outside rule year {year}")
        first = next((x for x in rows if x.stg == row.stg), None)
        if first is not None and (first.name, first.period, first.weight) != (row.name, row.period, row.weight):
            raise RuleError(f"{where}: name, period and weight differ from the STG's first row")
        rows.append(row)
    return tuple(rows)


def _deductions(p: dict) -> tuple[DrgDeduction, ...]:
    return tuple(
        DrgDeduction(
            d["name"],
            frozenset(d["drgs"]),
            Decimal(d["factor"]),
            d.get("urgency", ""),
            Decimal(d["under_hours"]) if d.get("under_hours") is not None else None,
            _icd(d.get("main_conditions", ())),
        )
        for d in p.get("drg_deductions", ())
    )


def _icd(codes) -> tuple[str, ...]:
    return tuple(c.replace(".", "") for c in codes)


def _exceptions(s: dict) -> tuple[SupplementException, ...]:
    return tuple(
        SupplementException(
            x["name"],
            tuple(x.get("atc", ())),
            frozenset(x.get("special_codes", ())),
            frozenset(x.get("procedures", ())),
            x.get("age_in_year_below"),
        )
        for x in s.get("exceptions", ())
    )


def _not_in_isf(p: dict) -> tuple[NotInIsf, ...]:
    return tuple(
        NotInIsf(n["name"], _icd(n.get("main_conditions", ())), frozenset(n.get("procedures", ())))
        for n in p.get("not_in_isf", ())
    )


def _supplements(p: dict) -> tuple[Supplement, ...]:
    out = tuple(
        Supplement(
            s["code"],
            s["name"],
            Decimal(s["points"]),
            frozenset(s["sectors"]),
            frozenset(s.get("care_levels", ())),
            _icd(s.get("conditions", ())),
            s.get("age_in_year_below"),
            bool(s.get("per_day", False)),
            _exceptions(s),
        )
        for s in p.get("supplements", ())
    )
    codes = [s.code for s in out]
    if len(set(codes)) != len(codes):
        raise RuleError(f"params.json: supplement codes repeat: {codes}")
    return out


def _block_funded(p: dict) -> frozenset[tuple[str, str]]:
    return frozenset((b["sector"], b["care_level"]) for b in p.get("block_funded", {}).get("rows", ()))


POPULATIONS = ("all", "somatic", "phv_tsb")


def _indicators(p: dict) -> tuple[UniqueIndicator, ...]:
    out = tuple(
        UniqueIndicator(
            str(i["id"]),
            i["population"],
            frozenset(i.get("stgs", ())),
            frozenset(i.get("procedures", ())),
            bool(i.get("indirect", False)),
        )
        for i in p["rbf_indicators"]["unique"]
    )
    bad = [i.id for i in out if i.population not in POPULATIONS or not (i.stgs or i.procedures)]
    if bad or len({i.id for i in out}) != len(out):
        raise RuleError(f"params.json rbf_indicators: bad or repeated indicators {bad or [i.id for i in out]}")
    return out


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
        definitions=load_definitions(definitions_path(year), **_DEFINITION_OPTIONS.get(year, {})),
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
        drg_deductions=_deductions(params),
        supplements=_supplements(params),
        block_funded=_block_funded(params),
        indicators=_indicators(params),
        not_in_isf=_not_in_isf(params),
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
