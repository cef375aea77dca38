"""Where `isf redrive` sends each dead letter back."""

import json

from services.cli.redrive import DeadLetter, destination
from services.common import names
from services.common.runtime import aside_digest


def letter(**kw) -> dict:
    return {"stage": "aggregator", "input": names.GROUPED, "reason": "r", "rules": {}, "message": False, **kw}


def test_a_grouped_activity_a_ledger_set_aside_goes_back_to_the_grouper_to_be_grouped_under_the_data_now():
    item = {"activity": {"source_id": "E:ous:1"}, "rule_year": 2026, "rules": "old"}
    assert destination(letter(payload=json.dumps(item))) == (names.ACTIVITY, b'[{"source_id":"E:ous:1"}]')


def test_any_other_item_goes_back_to_its_input_topic_as_a_one_item_array_and_a_whole_message_as_it_was():
    assert destination(letter(stage="settlement", input=names.POINTS, payload='{"id":"x"}')) == (
        names.POINTS,
        b'[{"id":"x"}]',
    )
    assert destination(letter(payload='{"rule_year":2026}')) == (names.GROUPED, b'[{"rule_year":2026}]')
    assert destination(letter(payload="not json", message=True)) == (names.GROUPED, b"not json")


def test_ingest_dead_letters_and_records_naming_no_known_topic_are_not_redriven():
    assert destination({"errors": ["bad"], "payload": "{}", "hf": "ous"}) is None
    assert destination(letter(input="elsewhere", payload="{}")) is None


def test_an_item_in_two_dead_letters_is_one_item_named_by_the_digest_its_stage_counted_it_under():
    first, again = DeadLetter(letter(payload='{"id":"x"}')), DeadLetter(letter(payload='{"id":"x"}'))
    assert first.id == again.id == aside_digest("aggregator", '{"id":"x"}')
    assert DeadLetter(letter(stage="indicators", payload='{"id":"x"}')).id != first.id
