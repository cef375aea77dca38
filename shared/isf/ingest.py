"""Ingest: parse and validate hospital events, pseudonymise, and decide which version is current.

`parse` never raises on bad input: it returns readable errors for the dead-letter topic, built from fixed
messages and the names of known fields; what they quote of the input goes through `scrub`.
`decide` is the revision state machine shared by replay (`MemoryIngestLedger`) and the
ingest service (the ingest script `services/common/redis/lua/ingest.lua`). Revisions order the events
of one source totally (`revision`), so any delivery order ends with the same current event.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Literal, NamedTuple

from pydantic import ValidationError

from .events import Activity, EpisodeV1, InputEvent, PrescriptionV1
from .pseudonym import pseudonymise
from .registry import hospitals, residence_rhf, rhf_of
from .rules import YEARS

MAX_BYTES = 1_000_000
MAX_DEPTH = 8
SCHEMAS: dict[str, type[EpisodeV1] | type[PrescriptionV1]] = {
    "episode/v1": EpisodeV1,
    "prescription/v1": PrescriptionV1,
}
# First sight of an event id: accepted (a newer revision), superseded (a newer one is current). A repeated
# event id: "repeat", or "repeat_current" when the revision it carried is still current (then it is passed on
# again, harmlessly). A revision ends in its event id, so two events never share one.
Decision = Literal["accepted", "superseded", "repeat", "repeat_current"]
FIRST_SIGHT = ("accepted", "superseded")
PASS_ON = ("accepted", "repeat_current")
# a national id: eleven digits, also written with a space, dot or dash after the six of the birth date
_ELEVEN_DIGITS = re.compile(r"(?<!\d)\d{6}[ .-]?\d{5}(?!\d)")
# in an error text, what came from input: six or more digits (with or without separators between them: a
# national id written 010170 12345 too), anything shaped like an e-mail address, and control characters
_DIGIT_RUN = re.compile(r"\d(?:[\s./:-]?\d){5,}")
_EMAIL = re.compile(r"\S+@\S+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MAX_ERRORS = 10  # per rejection; the rest are counted
# a patient_id in text that is not (or no longer, once truncated) valid JSON: up to its closing quote or the end
_PATIENT_FIELD = re.compile(r'("patient_id"\s*:\s*)"(?:[^"\\]|\\.)*("|$)')


class DecideItem(NamedTuple):
    """One valid event for the ingest ledger to decide on (`isf.stages.IngestStore.decide`).
    Built and read by field name."""

    source: str
    event_id: str
    revision: str
    category: str  # what an accepted version is counted as (`category`)
    closes_at: int  # Unix seconds: when the state of its rule year expires; 0 keeps it
    patient: str


class DeadItem(NamedTuple):
    """One rejected payload for the dead-letter count (`isf.stages.IngestStore.dead_letter`)."""

    hf: str | None  # a known HF, or None: counted under "none"
    digest: str  # SHA-256 of the raw payload: a payload is counted once however often it comes
    errors: str  # the readable errors as JSON text


@dataclass(frozen=True)
class Rejected:
    errors: list[str]
    payload: str  # the original, with the patient identifier replaced (see `redact`)
    hf: str | None = None


def _depth(v, d: int = 0) -> int:
    if d > MAX_DEPTH:
        return d
    if isinstance(v, dict):
        return max([_depth(x, d + 1) for x in v.values()] or [d + 1])
    if isinstance(v, list):
        return max([_depth(x, d + 1) for x in v] or [d + 1])
    return d


def redact(raw: bytes | str, key: bytes) -> str:
    """The payload for the dead-letter topic, with no raw patient identifier left in it."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    if len(text) > 4096:
        text = text[:4096] + "...[truncated]"
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        obj = None
    if isinstance(obj, dict) and "patient_id" in obj:
        obj["patient_id"] = pseudonymise(str(obj["patient_id"]), key) if obj["patient_id"] else obj["patient_id"]
        text = json.dumps(obj, ensure_ascii=False, default=str)
    else:
        text = _PATIENT_FIELD.sub(r'\1"[redacted-id]"', text)
    return _ELEVEN_DIGITS.sub("[redacted-id]", text)


def scrub(text: str, cap: int = 60) -> str:
    """Input shown in an error text: numbers that could identify someone and e-mail addresses replaced,
    control characters made visible, and at most `cap` characters."""
    text = _CONTROL.sub("?", _EMAIL.sub("[redacted]", _DIGIT_RUN.sub("[redacted-number]", text)))
    return text if len(text) <= cap else text[: cap - 1] + "…"


def _where(loc: tuple, known: set[str]) -> str:
    """A validation error's location: names of the model's own fields and list positions as they are, a field
    the model does not know only scrubbed (its name is input)."""
    parts = [p if isinstance(p, int) or p in known else f"unknown field {scrub(repr(p), 40)}" for p in loc]
    return ".".join(map(str, parts)) or "event"


def _readable(exc: ValidationError, model: type[EpisodeV1] | type[PrescriptionV1]) -> list[str]:
    known = {*model.model_fields, *(f.alias for f in model.model_fields.values() if f.alias)}
    errors = exc.errors(include_url=False)
    out = [f"{_where(e['loc'], known)}: {scrub(e['msg'], 200)}" for e in errors[:MAX_ERRORS]]
    if len(errors) > MAX_ERRORS:
        out.append(f"and {len(errors) - MAX_ERRORS} more errors")
    return out


def parse(raw: bytes, key: bytes, open_from: int | None = None) -> InputEvent | Rejected:
    """A valid event, or readable errors; never raises, so no input can stop the ingest service.
    `open_from`: rule years before it are closed (their patient-period state has expired), so their
    events are refused rather than counted afresh."""
    try:
        return _parse(raw, key, open_from)
    except Exception as exc:  # a case the checks below did not foresee: still a counted, readable rejection
        return Rejected([f"could not be read ({type(exc).__name__})"], redact(raw[:4096], key))


def _parse(raw: bytes, key: bytes, open_from: int | None) -> InputEvent | Rejected:
    if len(raw) > MAX_BYTES:
        return Rejected([f"message is {len(raw)} bytes, over the limit of {MAX_BYTES}"], redact(raw[:4096], key))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejected([f"not valid UTF-8: {exc.reason} at byte {exc.start}"], redact(raw, key))
    try:
        obj = json.loads(text)
    except RecursionError:
        return Rejected([f"JSON nested deeper than {MAX_DEPTH} levels"], redact(text, key))
    except json.JSONDecodeError as exc:
        return Rejected([f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"], redact(text, key))
    except ValueError:
        return Rejected(["not valid JSON"], redact(text, key))
    if not isinstance(obj, dict):
        return Rejected([f"expected a JSON object, got {type(obj).__name__}"], redact(text, key))
    # only a known HF names where a rejection is counted; anything else is counted under "none"
    hf = obj.get("hf") if isinstance(obj.get("hf"), str) and obj.get("hf") in hospitals() else None
    # a document with fewer brackets than the limit cannot be nested deeper: most never need the walk
    if raw.count(b"{") + raw.count(b"[") > MAX_DEPTH and _depth(obj) > MAX_DEPTH:
        return Rejected([f"JSON nested deeper than {MAX_DEPTH} levels"], redact(text, key), hf)
    model: type[EpisodeV1] | type[PrescriptionV1] | None = (
        SCHEMAS.get(obj["schema"]) if isinstance(obj.get("schema"), str) else None
    )
    if model is None:
        return Rejected(
            [f"schema: expected one of {sorted(SCHEMAS)}, got {scrub(repr(obj.get('schema')))}"], redact(text, key), hf
        )
    try:
        event = model.model_validate(obj)
    except ValidationError as exc:
        return Rejected(_readable(exc, model), redact(text, key), hf)
    end = event.discharged_at if isinstance(event, EpisodeV1) else event.dispensed_at
    if end is not None and end.year not in YEARS:
        return Rejected(
            [f"no rule year {end.year}: known rule years are {', '.join(map(str, YEARS))}"], redact(text, key), hf
        )
    year = (end or (event.admitted_at if isinstance(event, EpisodeV1) else event.dispensed_at)).year
    if open_from is not None and year < open_from:
        return Rejected(
            [f"rule year {year} is closed (final settlement done, state expired); open years start at {open_from}"],
            redact(text, key),
            hf,
        )
    return event


def category(a: Activity) -> str:
    """What an accepted version is counted as: withdrawn, not ended yet, or passed on for grouping."""
    return "deleted" if a.deleted else ("ongoing" if a.end is None else "grouped")


def state_year(a: Activity) -> int:
    """The rule year whose closing expires this source's state: of its end, or of its start while ongoing."""
    when = a.end or a.start
    if when is None:
        raise ValueError(f"activity {a.source_id} has neither start nor end")
    return when.year


def revision(version: int, deleted: bool, event_id: str) -> str:
    """The total order of one source's events, as text that sorts the same in Python and in Redis' Lua:
    a higher version wins; at one version a delete wins over an upsert (a withdrawal is never undone by
    a resend of the same version); then the greater event id, so two different events can never tie."""
    return f"{version:010d}|{int(deleted)}|{event_id}"


MOVED = "|moved"  # suffix of the revision that withdraws a source from the patient it no longer belongs to


def withdrawal(a: Activity, patient: str) -> Activity:
    """The withdrawal of source `a` from `patient`, its patient before this revision (a corrected patient
    id): state is kept per patient, so the old patient's contributions are retracted under their own key."""
    return Activity(
        source_id=a.source_id,
        kind=a.kind,
        version=a.version,
        revision=a.revision + MOVED,
        deleted=True,
        hf=a.hf,
        rhf=a.rhf,
        patient=patient,
        residence=a.residence,
        start=a.start,
        end=a.end,
    )


def to_activity(e: InputEvent, key: bytes) -> Activity:
    # built without validating again: every value comes from the validated event (or is derived from one), and the
    # grouper validates the activity when it reads it off the topic
    start = e.admitted_at if isinstance(e, EpisodeV1) else e.dispensed_at
    if e.birth_date is not None:
        age_days = (start.date() - e.birth_date).days
    else:
        age_days = int((e.age or 0) * 365.25)
    deleted = e.action == "delete"
    common: dict[str, Any] = dict(
        source_id=e.source_id,
        version=e.version,
        revision=revision(e.version, deleted, e.event_id),
        deleted=deleted,
        hf=e.hf,
        rhf=rhf_of(e.hf),
        patient=pseudonymise(e.patient_id, key),
        municipality=e.patient_municipality,
        residence=residence_rhf(e.patient_municipality, e.hf),
        age_days=age_days,
        sex=e.sex,
    )
    if isinstance(e, EpisodeV1):
        return Activity.model_construct(
            kind="episode",
            sector=e.sector,
            care_level=e.care_level,
            start=e.admitted_at,
            end=e.discharged_at,
            main_condition=e.main_condition,
            secondary_conditions=tuple(e.secondary_conditions),
            procedures=tuple(e.procedures),
            special_codes=tuple(e.special_codes),
            atc_codes=tuple(e.atc_codes),
            contact_mode=e.contact_mode,
            urgency=e.urgency,
            debtor=e.debtor,
            discharge_summary_sent_at=e.discharge_summary_sent_at,
            **common,
        )
    return Activity.model_construct(
        kind="prescription",
        care_level="outpatient",
        start=e.dispensed_at,
        end=e.dispensed_at,
        main_condition=e.indication,
        atc_codes=(e.atc,) if e.atc else (),
        drug_code=e.drug_code,
        special_codes=("WL000",) + ((e.drug_code,) if e.drug_code else ()),
        **common,
    )


class MemoryIngestLedger:
    """Current revision per source, the event ids seen of each source and the ingest counters: the same rules
    as the Redis scripts (ingest and dead letters), the in-memory twin behind `isf.stages.IngestStore`. Event
    ids are remembered with their source, as the script does. With a `clock` (Unix seconds), a source is
    forgotten once its rule year's close has passed and a dead-lettered payload after `dead_ttl` seconds, as
    the scripts forget them; without one (replay), nothing is forgotten."""

    def __init__(self, clock: Callable[[], float] | None = None, dead_ttl: int | None = None) -> None:
        # source -> (revision, event id, patient, patient it moved from or "", closes-at or 0)
        self.current: dict[str, tuple[str, str, str, str, int]] = {}
        self.seen: set[tuple[str, str]] = set()  # (source, event id) of every event seen
        self.dead: dict[str, float] = {}  # payload digest -> when it is forgotten
        self.counters: dict[str, int] = {}
        self.clock = clock
        self.dead_ttl = dead_ttl

    def _count(self, name: str) -> None:
        self.counters[name] = self.counters.get(name, 0) + 1

    def decide_one(
        self, source: str, event_id: str, rev: str, patient: str, category: str = "grouped", close: int = 0
    ) -> tuple[Decision, str]:
        """The decision, and the patient this revision withdrew the source from ("" if none): passed on
        again with every repeat of a current event, so a lost withdrawal is re-sent too."""
        cur = self.current.get(source)
        if cur is not None and self.clock is not None and 0 < cur[4] <= self.clock():  # its rule year closed
            del self.current[source]
            self.seen = {k for k in self.seen if k[0] != source}  # a scan: only the store contract sets a clock
            cur = None
        if cur is not None and cur[0] == rev:  # a revision ends in its event id: the same event
            return "repeat_current", cur[3]
        if (source, event_id) in self.seen:
            return "repeat", ""
        self.seen.add((source, event_id))
        if cur is None or rev > cur[0]:
            moved = cur[2] if cur is not None and cur[2] != patient else ""
            self.current[source] = (rev, event_id, patient, moved, close)
            self._count(category)
            self._count("accepted")
            return "accepted", moved
        self._count("superseded")
        return "superseded", ""

    async def decide(self, items: list[DecideItem]) -> list[tuple[str, str]]:
        return [self.decide_one(i.source, i.event_id, i.revision, i.patient, i.category, i.closes_at) for i in items]

    async def dead_letter(self, items: list[DeadItem]) -> list[bool]:
        now = self.clock() if self.clock is not None else 0.0
        keep = float(self.dead_ttl) if self.clock is not None and self.dead_ttl is not None else float("inf")
        out = []
        for item in items:
            first = self.dead.get(item.digest, -1.0) <= now
            if first:
                self.dead[item.digest] = now + keep
                self._count("dead_lettered")
            out.append(first)
        return out
