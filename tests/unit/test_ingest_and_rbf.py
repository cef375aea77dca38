"""Ingest: readable dead-letters, pseudonyms, version rules. RBF: the staircase and its invariants."""

from decimal import Decimal

from isf.ingest import MemoryIngestLedger, Rejected, parse, revision, to_activity
from isf.rules import rule_year
from isf.settlement.rbf import distribute, step

from .helpers import KEY, episode, raw

FAKE_ID = "1234567890" + "1"  # shaped like a national id, synthetic


def test_bad_input_is_rejected_with_readable_errors_and_no_raw_identifier():
    cases = [
        b"{not json",
        b"\xff\xfe",
        b"[1,2]",
        raw(episode(hf="nowhere")),
        b"x" * 1_000_001,
        raw(episode(discharged_at="2020-01-01T00:00:00")),
        raw({"a": [[[[[[[[[[[1]]]]]]]]]]]}),
        raw(episode(patient_id=FAKE_ID, version=0)),
    ]
    for c in cases:
        r = parse(c, KEY)
        assert isinstance(r, Rejected) and r.errors and all(isinstance(e, str) for e in r.errors)
        assert FAKE_ID not in r.payload


def test_patient_identity_is_pseudonymised_with_the_key():
    a = to_activity(parse(raw(episode(patient_id="SYN-42")), KEY), KEY)
    b = to_activity(parse(raw(episode(patient_id="SYN-42")), b"other"), b"other")
    assert "SYN-42" not in a.model_dump_json() and a.patient != b.patient


def test_a_higher_version_replaces_and_a_repeat_or_older_one_changes_nothing():
    led = MemoryIngestLedger()

    def decide(eid, v, patient="p", deleted=False):
        return led.decide_one("s", eid, revision(v, deleted, eid), patient)[0]

    assert decide("e1", 1) == "accepted"
    assert decide("e1", 1) == "repeat_current"
    assert decide("e2", 2) == "accepted"
    assert decide("e1", 1) == "repeat"
    assert decide("e0", 1) == "superseded"
    assert decide("e2", 2) == "repeat_current"  # the current event again, however long ago it came


def test_at_one_version_a_delete_wins_over_an_upsert_in_either_order():
    for order in (("up", "del"), ("del", "up")):
        led = MemoryIngestLedger()
        for eid in order:
            led.decide_one("s", eid, revision(2, eid == "del", eid), "p")
        assert led.current["s"][1] == "del"


def test_a_corrected_patient_withdraws_the_source_from_the_old_patient_also_when_repeated():
    led = MemoryIngestLedger()
    assert led.decide_one("s", "e1", revision(1, False, "e1"), "A") == ("accepted", "")
    assert led.decide_one("s", "e2", revision(2, False, "e2"), "B") == ("accepted", "A")
    assert led.decide_one("s", "e2", revision(2, False, "e2"), "B") == ("repeat_current", "A")
    assert led.decide_one("s", "e3", revision(3, False, "e3"), "B") == ("accepted", "")


def test_staircase_of_seed_002_table_4_for_indicator_1_with_target_15():
    steps = rule_year(2025).rbf.steps["1"]
    assert rule_year(2025).rbf.targets["1"] == Decimal(15)
    assert [step(Decimal(a), steps) for a in ("2.99", "3", "5.99", "6", "8.99", "9", "11.99", "12", "15", "30")] == [
        0,
        1,
        1,
        2,
        2,
        4,
        4,
        5,
        5,
        5,
    ]


def test_incomes_sum_to_the_budget_and_reaching_more_never_pays_less():
    base = {
        r: {str(i): Decimal(1) for i in range(1, 9)} | {"9": Decimal(60)}
        for r in ("sor-ost", "vest", "midt-norge", "nord")
    }
    out = distribute(2026, base)
    assert sum(Decimal(v["nok"]) for v in out["rhf"].values()) == Decimal("693100000.00")
    better = {**base, "nord": {**base["nord"], "1": Decimal(14)}}
    assert Decimal(distribute(2026, better)["rhf"]["nord"]["nok"]) > Decimal(out["rhf"]["nord"]["nok"])


def test_a_closed_rule_year_is_refused_and_its_state_expiry_follows_final_settlement():
    from datetime import datetime, timezone

    from isf.periods.calendar import closes_at, first_open_year

    ev = raw(episode(admitted_at="2025-03-02T08:00:00", discharged_at="2025-03-02T10:00:00"))
    assert not isinstance(parse(ev, KEY, open_from=2025), Rejected)
    r = parse(ev, KEY, open_from=2026)
    assert isinstance(r, Rejected) and "rule year 2025 is closed" in r.errors[0]
    assert datetime.fromtimestamp(closes_at(2025), timezone.utc) == datetime(2027, 1, 1, tzinfo=timezone.utc)
    assert first_open_year(closes_at(2025) - 1) == 2025 and first_open_year(closes_at(2025)) == 2026


def test_an_identifier_with_control_characters_is_rejected_since_ids_become_parts_of_keys():
    r = parse(raw(episode(episode_id="a\x1fb")), KEY)
    assert isinstance(r, Rejected) and r.errors[0].startswith("episode_id")


HOSTILE_NAMES = [
    FAKE_ID,
    "010170 12345",
    "ola.nordmann@example.no",
    "x\nINFO isf.access access role=national",
    "k" * 500,
]


def test_error_texts_quote_no_identifier_from_hostile_field_names_or_values():
    """A field name or value is input: an error text names known fields, and shows anything else only scrubbed."""
    cases = [raw({**episode(), name: "x"}) for name in HOSTILE_NAMES]
    cases += [raw({**episode(), "schema": f"episode/{name}"}) for name in HOSTILE_NAMES]
    cases += [raw({**episode(), "hf": name}) for name in HOSTILE_NAMES]
    cases += [raw({**episode(), "version": name}) for name in HOSTILE_NAMES]
    cases.append(raw({**episode(), **{f"{FAKE_ID}{i}": i for i in range(50)}}))
    for c in cases:
        r = parse(c, KEY)
        assert isinstance(r, Rejected)
        text = "\n".join(r.errors)
        for leak in (FAKE_ID, "12345", "nordmann", "\nINFO", "k" * 100):
            assert leak not in text, (leak, text)
        assert len(r.errors) <= 11 and all(len(e) < 300 for e in r.errors)
    extra = parse(raw({**episode(), "sexx": "M"}), KEY)
    assert extra.errors == ["unknown field 'sexx': Extra inputs are not permitted"]  # a typo still says which
    assert parse(raw(episode(version="x")), KEY).errors[0].startswith("version: ")  # known fields by name
