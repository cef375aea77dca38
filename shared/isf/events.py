"""Event contracts: hospital input events (CONTRACTS.md) and the records passed between services.

Input models validate hospital payloads; `Activity` is what leaves ingest (pseudonymised,
one current version per source); `Delta` carries point and indicator changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, model_validator

from .registry import hospitals, known_municipality

Code = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=16, pattern=r"^[A-Z0-9.]+$")
]
# no control characters: identifiers become parts of Redis keys and member texts (isf.periods.ledger.SEP)
Ident = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")
]
Municipality = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{4}$")]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: Ident
    version: int = Field(ge=1, le=9_999_999_999)
    action: Literal["upsert", "delete"]
    hf: Ident
    patient_id: Ident
    birth_date: date | None = None
    age: int | None = Field(default=None, ge=0, le=130)
    sex: Literal["M", "F", "U"]
    # the patient's home municipality (kommunenummer): gives the RHF of residence ("sørge for")
    patient_municipality: Municipality | None = None

    @model_validator(mode="after")
    def _known_hf_and_age(self):
        if self.hf not in hospitals():  # the value is input: an error text never quotes it
            raise ValueError("hf is not an HF code of the registry (see README)")
        if self.patient_municipality is not None and not known_municipality(self.patient_municipality):
            raise ValueError(
                f"patient_municipality {self.patient_municipality}: no county "
                f"{self.patient_municipality[:2]} in the residence table (see README)"
            )
        if self.birth_date is None and self.age is None and self.action == "upsert":
            raise ValueError("either birth_date or age is required")
        return self


class EpisodeV1(_Input):
    schema_: Literal["episode/v1"] = Field(alias="schema")
    episode_id: Ident
    sector: Literal["somatic", "phv", "tsb"]
    care_level: Literal["inpatient", "day", "outpatient", "indirect"]
    admitted_at: datetime
    discharged_at: datetime | None = None
    main_condition: Code
    secondary_conditions: list[Code] = Field(default_factory=list, max_length=29)
    procedures: list[Code] = Field(default_factory=list, max_length=100)
    special_codes: list[Code] = Field(default_factory=list, max_length=50)
    atc_codes: list[Code] = Field(default_factory=list, max_length=50)
    contact_mode: Literal["in_person", "video", "phone"] | None = None
    urgency: Literal["acute", "planned"]
    debtor: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,3}$")]
    discharge_summary_sent_at: datetime | None = None

    @model_validator(mode="after")
    def _dates_in_order(self):
        if self.discharged_at is not None and self.discharged_at < self.admitted_at:
            raise ValueError("discharged_at is before admitted_at")
        if self.birth_date is not None and self.birth_date > self.admitted_at.date():
            raise ValueError("birth_date is after admitted_at")
        if (
            self.discharge_summary_sent_at is not None
            and self.discharged_at is not None
            and self.discharge_summary_sent_at < self.discharged_at
        ):
            raise ValueError("discharge_summary_sent_at is before discharged_at")
        return self

    @property
    def source_id(self) -> str:
        return f"E:{self.hf}:{self.episode_id}"


class PrescriptionV1(_Input):
    schema_: Literal["prescription/v1"] = Field(alias="schema")
    prescription_id: Ident
    dispensed_at: datetime
    drug_code: Code | None = None
    atc: Code | None = None
    indication: Code

    @model_validator(mode="after")
    def _drug(self):
        if self.drug_code is None and self.atc is None:
            raise ValueError("drug_code or atc is required")
        if self.birth_date is not None and self.birth_date > self.dispensed_at.date():
            raise ValueError("birth_date is after dispensed_at")
        return self

    @property
    def source_id(self) -> str:
        return f"R:{self.hf}:{self.prescription_id}"


InputEvent = Union[EpisodeV1, PrescriptionV1]


class NkiV1(BaseModel):
    """An external value for RBF indicator 9 (discharge summaries sent within one day) from the national
    quality indicator system (NKI), per HF and year: it takes precedence over the stream's own count."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_: Literal["nki/v1"] = Field(alias="schema")
    hf: Ident
    year: int = Field(ge=2000, le=2100)
    numerator: int = Field(ge=0)
    denominator: int = Field(gt=0)

    @model_validator(mode="after")
    def _sane(self):
        if self.hf not in hospitals():
            raise ValueError(f"unknown HF {self.hf!r} (see the registry in README)")
        if self.numerator > self.denominator:
            raise ValueError("numerator is larger than denominator")
        return self


class Activity(BaseModel):
    """One current version of one episode or prescription, pseudonymised (ingest's output)."""

    model_config = ConfigDict(frozen=True)

    source_id: str
    kind: Literal["episode", "prescription"]
    version: int
    # the order of versions of one source: version, then a delete above an upsert, then the event id,
    # so that two different events with one version resolve the same way in any delivery order
    revision: str = ""
    deleted: bool = False
    hf: str
    rhf: str  # owner of the producing HF
    patient: str  # pseudonym
    municipality: str | None = None  # home municipality: not an identifier on its own (README, Privacy)
    residence: str = ""  # RHF of residence ("sørge for")
    age_days: int | None = None
    sex: str = "U"
    sector: str = "somatic"
    care_level: str = "outpatient"
    start: datetime | None = None
    end: datetime | None = None  # discharge or dispensing; None = ongoing, not grouped yet
    main_condition: str = ""
    secondary_conditions: tuple[str, ...] = ()
    procedures: tuple[str, ...] = ()
    special_codes: tuple[str, ...] = ()
    atc_codes: tuple[str, ...] = ()
    drug_code: str | None = None
    contact_mode: str | None = None
    urgency: str = "planned"
    debtor: str = "11"
    discharge_summary_sent_at: datetime | None = None


@dataclass(slots=True)
class Delta:
    """A change to one statistic: `stat` is `kind|year|hf|...`, `period` where it is attributed."""

    # a plain record, not a validated model: our own code makes many per event on the hot path; what
    # arrives from a topic is validated at the edge (`DELTA_BATCHES`)

    stat: str
    period: str
    points_micro: int = 0
    count: int = 0


@dataclass(slots=True)
class DeltaBatch:
    """All the deltas one (source, version) caused in one ledger; its `id` makes re-delivery harmless."""

    id: str
    deltas: list[Delta]
    rules: str = ""  # the version of the rule data the ledger computed it under (`rules.data_version`)


# The wire form of a delta batch (the points and indicators topics): validates what a service reads,
# serialises what it publishes.
DELTA_BATCHES: TypeAdapter[DeltaBatch] = TypeAdapter(DeltaBatch)


def json_schemas() -> dict[str, dict]:
    return {
        "episode-v1.schema.json": EpisodeV1.model_json_schema(by_alias=True),
        "prescription-v1.schema.json": PrescriptionV1.model_json_schema(by_alias=True),
        "nki-v1.schema.json": NkiV1.model_json_schema(by_alias=True),
        "activity.schema.json": Activity.model_json_schema(),
        "delta-batch.schema.json": DELTA_BATCHES.json_schema(),
    }
