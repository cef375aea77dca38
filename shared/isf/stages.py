"""The pipeline's stages, each one plain function over a micro-batch and a store port.

The faust agents (`services/*/app.py`), the replay (`isf.replay`) and the scripted check
(`services/common/scripted.py`) all call these: an agent adds only Kafka (take, call, publish), the
replay only in-memory stores. The agents after ingest read their input through `read` and a parser per
stage, and process one item at a time where the rules may fail on one, so what they cannot process is set
aside (`Aside`) and the rest of the batch goes on. The ports are async because the Redis stores are; the
in-memory stores never suspend, so the replay drives them without an event loop (`run_now`).
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field
from typing import Callable, Coroutine, Generic, Iterable, Protocol, TypeVar

from pydantic import TypeAdapter, ValidationError

from .events import Activity, DeltaBatch
from .grouping.activity import Grouped, group_activity
from .ingest import PASS_ON, DeadItem, DecideItem, Rejected, category, parse, state_year, to_activity, withdrawal
from .periods.calendar import closes_at
from .periods.ledger import ApplyItem, Contributions
from .registry import hospitals
from .rules import YEARS, data_version, rule_year
from .stats import StatError, decode_stat

T = TypeVar("T")


class IngestStore(Protocol):
    async def decide(self, items: list[DecideItem]) -> list[tuple[str, str]]:
        """Per item: the decision and the patient the source was withdrawn from ("" if none)."""

    async def dead_letter(self, items: list[DeadItem]) -> list[bool]:
        """Per item: whether it is the first sight of its payload (then counted)."""


class LedgerStore(Protocol):
    async def apply(self, items: list[ApplyItem]) -> list[DeltaBatch | None]:
        """Per item: the deltas the revision caused (again for a repeat), None if outdated."""


class TotalsStore(Protocol):
    async def settle(self, batches: list[DeltaBatch]) -> int:
        """Sum each batch once; how many were new."""


def run_now(coro: Coroutine[None, None, T]) -> T:
    """The result of a coroutine that never suspends (in-memory stores), without an event loop."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise RuntimeError("an in-memory store suspended: only stores that never wait can run without a loop")


@dataclass
class Ingested:
    rejected: list[Rejected] = field(default_factory=list)  # for the dead-letter topic
    first_dead: list[bool] = field(default_factory=list)  # per rejected: first sight of that payload
    decisions: list[str] = field(default_factory=list)  # per valid event
    passed: list[Activity] = field(default_factory=list)  # for the activity topic: current versions, withdrawals


def _closes(year: int, retain: int | None) -> int:
    return closes_at(year, retain) if retain is not None else 0


async def ingest(
    raws: Iterable[bytes], key: bytes, store: IngestStore, open_from: int | None = None, retain: int | None = None
) -> Ingested:
    """Validate, pseudonymise, dead-letter, and pass on one current revision per source. `retain`: years
    state is kept after a rule year's next (its keys expire then); None keeps it (replay, tests)."""
    out = Ingested()
    dead: list[tuple[Rejected, str]] = []
    valid = []
    for raw in raws:
        parsed = parse(raw, key, open_from=open_from)
        if isinstance(parsed, Rejected):
            dead.append((parsed, hashlib.sha256(raw).hexdigest()))
        else:
            valid.append((parsed, to_activity(parsed, key)))
    if dead:
        out.rejected = [r for r, _ in dead]
        out.first_dead = await store.dead_letter(
            [DeadItem(hf=r.hf, digest=digest, errors=json.dumps(r.errors, ensure_ascii=False)) for r, digest in dead]
        )
    results = await store.decide(
        [
            DecideItem(
                source=a.source_id,
                event_id=e.event_id,
                revision=a.revision,
                category=category(a),
                closes_at=_closes(state_year(a), retain),
                patient=a.patient,
            )
            for e, a in valid
        ]
    )
    for (_e, a), (decision, moved_from) in zip(valid, results):
        out.decisions.append(decision)
        if decision in PASS_ON:
            out.passed += [withdrawal(a, moved_from), a] if moved_from else [a]
    return out


def group(activities: Iterable[Activity], year: int | None = None) -> list[Grouped]:
    """DRG, points and STG per activity, under its own rule year (or `year`, for a simulation)."""
    return [group_activity(a, year=year) for a in activities]


def ledger_items(
    grouped: list[Grouped],
    namespace: str,
    contributions: Callable[[Grouped], Contributions],
    retain: int | None = None,
) -> list[ApplyItem]:
    """What a batch of grouped activity asks of one contribution ledger: one item per activity."""
    return [
        ApplyItem(
            namespace=namespace,
            patient=g.activity.patient,
            source=g.activity.source_id,
            revision=g.activity.revision,
            contributions=contributions(g),
            closes_at=_closes(state_year(g.activity), retain),
        )
        for g in grouped
    ]


async def apply_items(
    items: list[ApplyItem], store: LedgerStore, versions: list[str] | None = None
) -> list[DeltaBatch]:
    """The delta batches that changed anything, each named with the rule data version of its item (`versions`)."""
    out = await store.apply(items)
    if versions is not None:
        for b, v in zip(out, versions):
            if b is not None:
                b.rules = v
    return [b for b in out if b is not None and b.deltas]


async def apply_ledger(
    grouped: list[Grouped],
    namespace: str,
    contributions: Callable[[Grouped], Contributions],
    store: LedgerStore,
    retain: int | None = None,
) -> list[DeltaBatch]:
    """One contribution ledger over a batch of grouped activity: the delta batches that changed anything."""
    return await apply_items(ledger_items(grouped, namespace, contributions, retain), store, [g.rules for g in grouped])


async def settle(batches: list[DeltaBatch], store: TotalsStore) -> int:
    return await store.settle(batches) if batches else 0


# What a stage after ingest does with an item it cannot process: it sets the item aside (the dead-letter topic)
# with a reason and goes on with the rest of its batch. A reason is fixed text naming fields, error kinds, rule
# years and data versions, never a value of the item: no patient data leaks through it.


@dataclass
class Aside:
    reason: str
    payload: str  # the item's JSON text, or the whole message's text when it was no JSON array (`message`)
    message: bool = False


class Unfit(ValueError):
    """An item a stage cannot process; its text is the reason (fixed text, no value of the item)."""


_FIELDS = frozenset(Activity.model_fields) | frozenset(Grouped.model_fields) | {"id", "deltas", "rules"}
_FIELDS |= {"stat", "period", "points_micro", "count"}


def shape_reason(what: str, exc: ValidationError) -> str:
    """Which fields of the item are wrong and how (pydantic's error kinds), without their values."""
    wrong = []
    for e in exc.errors(include_url=False, include_input=False, include_context=False)[:5]:
        loc = ".".join(str(p) if isinstance(p, int) or p in _FIELDS else "?" for p in e["loc"]) or "item"
        wrong.append(f"{loc} ({e['type']})")
    return f"not {what}: " + ", ".join(wrong)


class ItemReader(Generic[T]):
    """How a stage reads the items of its input: their model (`what` names it in reasons) and the checks beyond
    their shape (`check`, which raises `Unfit`). Called on one item of a decoded message, it returns the item or
    raises `Unfit`; `whole` reads a whole message by pydantic's own JSON parser in one go, and raises on anything
    wrong in it (`read` then reads that message item by item)."""

    def __init__(self, what: str, model: type[T], check: Callable[[T], T]) -> None:
        self.what, self.check = what, check
        self.one: TypeAdapter[T] = TypeAdapter(model)
        self.many: TypeAdapter[list[T]] = TypeAdapter(list[model])  # type: ignore[valid-type]

    def __call__(self, item: object) -> T:
        try:
            parsed = self.one.validate_python(item)
        except ValidationError as exc:
            raise Unfit(shape_reason(self.what, exc)) from None
        return self.check(parsed)

    def whole(self, raw: bytes) -> list[T]:
        return [self.check(item) for item in self.many.validate_json(raw)]


def read(raws: Iterable[bytes | None], parse_item: ItemReader[T]) -> tuple[list[T], list[Aside]]:
    """The items of a batch of array messages (internal topics) that `parse_item` accepts, and the rest set
    aside: a message that is no JSON array as a whole, an item `parse_item` refuses (`Unfit`) on its own. A
    message is read whole first (`ItemReader.whole`); only one with something wrong in it is taken apart, so what
    is set aside and why does not depend on the fast path."""
    good: list[T] = []
    aside: list[Aside] = []
    for raw in raws:
        if isinstance(raw, bytes):
            try:
                good += parse_item.whole(raw)
                continue
            except (Unfit, ValidationError, ValueError):
                pass
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""
        try:
            msg = json.loads(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError, RecursionError):
            aside.append(Aside("message is not JSON", text, message=True))
            continue
        if not isinstance(msg, list):
            aside.append(Aside(f"message is a JSON {type(msg).__name__}, not an array of items", text, message=True))
            continue
        for item in msg:
            try:
                good.append(parse_item(item))
            except Unfit as exc:
                aside.append(Aside(str(exc), json.dumps(item, ensure_ascii=False, separators=(",", ":"))))
    return good, aside


def _activity_fit(a: Activity) -> Activity:
    if a.hf not in hospitals():
        raise Unfit("activity of an HF not in the registry")
    return a


parse_activity = ItemReader("an activity", Activity, _activity_fit)
"""An activity the grouper can group: its shape, and an HF of the registry."""


def group_each(activities: Iterable[Activity], year: int | None = None) -> tuple[list[Grouped], list[Aside]]:
    """`group`, one activity at a time: one the rules fail on is set aside, the others are grouped."""
    out: list[Grouped] = []
    aside: list[Aside] = []
    for a in activities:
        try:
            out.append(group_activity(a, year=year))
        except Exception as exc:  # a rule error on one activity stops neither the batch nor the stage
            aside.append(Aside(f"rule error while grouping ({type(exc).__name__})", a.model_dump_json()))
    return out, aside


def _grouped_fit(g: Grouped) -> Grouped:
    if g.activity.hf not in hospitals():
        raise Unfit("grouped activity of an HF not in the registry")
    y = g.rule_year
    if y is None:
        return g
    if y not in YEARS:
        raise Unfit(f"grouped under rule year {y}, which has no rule data here")
    have = data_version(y)
    if g.rules != have:
        raise Unfit(f"grouped under rule data {g.rules or '(unnamed)'} of {y}; this stage has {have}")
    rules = rule_year(y)
    if g.drg is not None and g.drg not in rules.definitions.drg_mdc and g.drg not in rules.weights:
        raise Unfit(f"DRG unknown to the rule data of {y}")
    if g.stg is not None and g.stg not in rules.stgs:
        raise Unfit(f"STG unknown to the rule data of {y}")
    return g


parse_grouped = ItemReader("a grouped activity", Grouped, _grouped_fit)
"""A grouped activity a ledger can apply: its shape, a rule year and rule data version held here, and DRG and STG
codes of that data."""


def contribute(
    grouped: list[Grouped],
    namespace: str,
    contributions: Callable[[Grouped], Contributions],
    retain: int | None = None,
) -> tuple[list[Grouped], list[ApplyItem], list[Aside]]:
    """`ledger_items`, one activity at a time: the activities applied with their items, and those the rules
    fail on set aside."""
    ok: list[Grouped] = []
    out: list[ApplyItem] = []
    aside: list[Aside] = []
    for g in grouped:
        try:
            out += ledger_items([g], namespace, contributions, retain)
        except Exception as exc:  # a rule error on one activity stops neither the batch nor the stage
            aside.append(Aside(f"rule error in the {namespace} ledger ({type(exc).__name__})", g.model_dump_json()))
            continue
        ok.append(g)
    return ok, out, aside


@functools.lru_cache(maxsize=1 << 16)
def _stat_unfit(stat: str) -> str:
    """Why settlement cannot sum a stat key ("" if it can): stat keys repeat, so each is read once."""
    try:
        year = decode_stat(stat).year
    except StatError:
        return "delta batch with a malformed stat key"
    return "" if year in YEARS else f"delta batch names rule year {year}, which is not known here"


def _delta_batch_fit(b: DeltaBatch) -> DeltaBatch:
    if not b.id:
        raise Unfit("delta batch without an id")
    for d in b.deltas:
        if reason := _stat_unfit(d.stat):
            raise Unfit(reason)
    return b


parse_delta_batch = ItemReader("a delta batch", DeltaBatch, _delta_batch_fit)
"""A delta batch settlement can sum: its shape, and stat keys of rule years known here."""
