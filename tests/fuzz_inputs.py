"""Hypothesis strategies for hostile ingest input: mutated events, wrong types, bad dates, negative stays,
unknown codes, invalid UTF-8, deep nesting, oversized and non-object payloads."""

import json

from hypothesis import strategies as st

from tests.unit.helpers import episode, prescription

JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
    max_leaves=8,
)
DATES = st.sampled_from(
    [
        "2026-02-30T10:00:00",
        "yesterday",
        "2026-13-01T00:00:00",
        "",
        "2026-03-02",
        "0000-00-00T00:00:00",
        "2026-03-02T08:00:00+25:00",
        "2024-01-01T00:00:00",
        "2031-01-01T00:00:00",
    ]
)
CODES = st.sampled_from(["ZZZ999", "M545", "", "j189", "I50.9", "DROP TABLE", "💥", "A" * 40, "E119"])
# event ids stay unique (as producers keep them): a reused id would make the outcome depend on arrival order
FIELDS = [
    "schema",
    "version",
    "action",
    "hf",
    "patient_id",
    "birth_date",
    "sex",
    "sector",
    "care_level",
    "admitted_at",
    "discharged_at",
    "main_condition",
    "procedures",
    "urgency",
    "debtor",
    "contact_mode",
]


@st.composite
def mutated_event(draw) -> bytes:
    ev = episode() if draw(st.booleans()) else prescription()
    if draw(st.integers(0, 20)) == 0:
        ev["event_id"] = draw(st.sampled_from([None, 5, "", [], {"a": 1}]))  # never valid
    for _ in range(draw(st.integers(0, 3))):
        field = draw(st.sampled_from(FIELDS))
        how = draw(st.sampled_from(["drop", "junk", "date", "code", "negative_stay", "version"]))
        if how == "drop":
            ev.pop(field, None)
        elif how == "junk":
            ev[field] = draw(JSONISH)
        elif how == "date":
            ev[draw(st.sampled_from(["admitted_at", "discharged_at", "birth_date", "dispensed_at"]))] = draw(DATES)
        elif how == "code":
            ev["main_condition"] = draw(CODES)
            ev["procedures"] = [draw(CODES)]
        elif how == "negative_stay":
            ev["admitted_at"], ev["discharged_at"] = "2026-05-10T10:00:00", "2026-05-01T10:00:00"
        else:
            ev["version"] = draw(st.sampled_from([0, -1, 2**70, "2", 1.5, None]))
    return json.dumps(ev).encode()


@st.composite
def hostile_bytes(draw) -> bytes:
    n = draw(st.integers(0, 499))  # oversized payloads are 1 MB each: keep them rare
    kind = "big" if n == 0 else ["binary", "utf8", "deep", "scalar", "truncated"][n % 5]
    if kind == "binary":
        return draw(st.binary(min_size=1, max_size=200))
    if kind == "utf8":
        return b'{"schema": "episode/v1", "hf": "ous", "patient_id": "\xff\xfe"}'
    if kind == "deep":
        n = draw(st.integers(20, 3000))
        return b"[" * n + b"]" * n
    if kind == "big":
        return json.dumps({**episode(), "main_condition": "x" * 1_100_000}).encode()
    if kind == "scalar":
        return json.dumps(draw(JSONISH)).encode()
    return json.dumps(episode()).encode()[: draw(st.integers(1, 60))]


HOSTILE = st.one_of(mutated_event(), mutated_event(), hostile_bytes())
