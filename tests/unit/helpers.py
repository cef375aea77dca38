"""Small builders of input events for the tests."""

import json

KEY = b"test-key"
_n = [0]


def episode(**kw) -> dict:
    _n[0] += 1
    ev = {
        "schema": "episode/v1",
        "event_id": f"t-{_n[0]}",
        "episode_id": f"e-{_n[0]}",
        "version": 1,
        "action": "upsert",
        "hf": "ous",
        "patient_id": "SYN-1",
        "birth_date": "1950-05-01",
        "sex": "F",
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
    }
    ev.update(kw)
    return ev


def prescription(**kw) -> dict:
    _n[0] += 1
    ev = {
        "schema": "prescription/v1",
        "event_id": f"t-{_n[0]}",
        "prescription_id": f"r-{_n[0]}",
        "version": 1,
        "action": "upsert",
        "hf": "ous",
        "patient_id": "SYN-1",
        "birth_date": "1950-05-01",
        "sex": "F",
        "dispensed_at": "2026-03-05T10:00:00",
        "drug_code": "L04AB02",
        "atc": "L04AB02",
        "indication": "G35",
    }
    ev.update(kw)
    return ev


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
