"""Small builders of input events for the tests."""

import json

KEY = b"test-key"
_n = [0]


def _envelope(schema: str, own_id: str, prefix: str) -> dict:
    """The fields every input event carries (`isf.events._Input`), with a fresh event and source id."""
    _n[0] += 1
    return {
        "schema": schema,
        "event_id": f"t-{_n[0]}",
        own_id: f"{prefix}-{_n[0]}",
        "version": 1,
        "action": "upsert",
        "hf": "ous",
        "patient_id": "SYN-1",
        "birth_date": "1950-05-01",
        "sex": "F",
    }


def episode(**kw) -> dict:
    return {
        **_envelope("episode/v1", "episode_id", "e"),
        "sector": "somatic",
        "care_level": "outpatient",
        "admitted_at": "2026-03-02T08:00:00",
        "discharged_at": "2026-03-02T09:00:00",
        "main_condition": "M545",
        "secondary_conditions": [],
        "procedures": [],
        "special_codes": [],
        "atc_codes": [],
        "contact_mode": "in_person",
        "urgency": "planned",
        "debtor": "11",
        "discharge_summary_sent_at": None,
        **kw,
    }


def prescription(**kw) -> dict:
    return {
        **_envelope("prescription/v1", "prescription_id", "r"),
        "dispensed_at": "2026-03-05T10:00:00",
        "drug_code": "L04AB02",
        "atc": "L04AB02",
        "indication": "G35",
        **kw,
    }


def raw(ev: dict) -> bytes:
    return json.dumps(ev).encode()


def activity(ev: dict):
    """The pseudonymised activity ingest makes of an input event (it must be valid)."""
    from isf.ingest import parse, to_activity

    return to_activity(parse(raw(ev), KEY), KEY)


def grouped(year: int | None = 2026, **kw):
    """An episode built from `kw`, grouped under `year` (None: its own rule year)."""
    from isf.grouping.activity import group_activity

    return group_activity(activity(episode(**kw)), year=year)
