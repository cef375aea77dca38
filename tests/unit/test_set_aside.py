"""Stages after ingest set aside what they cannot process, with a reason that carries no value of the item."""

import json
import shutil

import pytest

from isf import stages
from isf.feed import Feed, FeedConfig
from isf.grouping.activity import Grouped
from isf.ingest import Rejected, parse, to_activity
from isf.periods.points import NAMESPACE, point_contributions
from isf.rules import YEARS, data_version, use_sources, weights_path

from .helpers import KEY, episode


def _grouped(**kw) -> Grouped:
    a = to_activity(parse(json.dumps(episode(**kw)).encode(), KEY), KEY)
    return stages.group([a])[0]


def _array(*items) -> bytes:
    return json.dumps(list(items)).encode()


def test_a_message_that_is_no_json_array_is_set_aside_whole_and_the_batch_goes_on():
    good = _grouped().model_dump(mode="json")
    got, aside = stages.read(
        [b"\x00not json", b'{"activity": 1}', None, _array(good)],
        stages.parse_grouped,
    )
    assert [g.activity.source_id for g in got] == [good["activity"]["source_id"]]
    assert [(a.reason, a.message) for a in aside] == [
        ("message is not JSON", True),
        ("message is a JSON dict, not an array of items", True),
        ("message is not JSON", True),
    ]
    assert aside[0].payload == "\x00not json"


def test_an_item_of_the_wrong_shape_is_set_aside_alone_naming_fields_but_no_value():
    good = _grouped().model_dump(mode="json")
    bad = {**good, "activity": {**good["activity"], "version": "SYN-SECRET-ID"}}
    got, aside = stages.read([_array(bad, good, ["a list"])], stages.parse_grouped)
    assert len(got) == 1
    assert aside[0].reason == "not a grouped activity: activity.version (int_parsing)"
    assert json.loads(aside[0].payload) == bad
    assert aside[1].reason.startswith("not a grouped activity: item (")
    assert all("SYN-SECRET-ID" not in a.reason for a in aside)


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"stg": "ZZ99X"}, "STG unknown to the rule data of 2026"),
        ({"drg": "999Z"}, "DRG unknown to the rule data of 2026"),
        ({"rule_year": 2031}, "grouped under rule year 2031, which has no rule data here"),
        ({"rules": "0123456789abcdef"}, "grouped under rule data 0123456789abcdef of 2026; this stage has "),
    ],
)
def test_a_grouped_activity_naming_codes_or_rule_data_the_ledger_does_not_have_is_set_aside(change, reason):
    g = {**_grouped().model_dump(mode="json"), **change}
    got, aside = stages.read([_array(g)], stages.parse_grouped)
    assert got == [] and aside[0].reason.startswith(reason)
    assert "ZZ99X" not in aside[0].reason and "999Z" not in aside[0].reason


def test_everything_the_grouper_makes_of_the_feed_is_accepted_by_the_ledgers():
    parsed = [parse(raw, KEY) for _k, raw in Feed(FeedConfig(seed=3)).events(2000)]
    activities = [to_activity(e, KEY) for e in parsed if not isinstance(e, Rejected)]
    grouped, failed = stages.group_each(a for a in activities)
    assert failed == [] and {g.rule_year for g in grouped} >= {2026}
    wire = _array(*(g.model_dump(mode="json") for g in grouped))
    got, aside = stages.read([wire], stages.parse_grouped)
    assert aside == [] and got == grouped


def test_an_activity_the_rules_fail_on_is_set_aside_and_the_others_are_grouped():
    ok = _grouped().activity
    future = ok.model_copy(update={"end": ok.end.replace(year=2031), "source_id": "E:ous:later"})
    grouped, aside = stages.group_each([future, ok])
    assert [g.activity for g in grouped] == [ok]
    assert aside[0].reason == "rule error while grouping (RuleError)"


def test_an_activity_of_an_hf_outside_the_registry_is_set_aside():
    a = _grouped().activity.model_dump(mode="json")
    got, aside = stages.read([_array({**a, "hf": "nowhere"})], stages.parse_activity)
    assert got == [] and aside[0].reason == "activity of an HF not in the registry"


def test_a_rule_error_in_a_ledger_sets_aside_that_activity_only():
    a, b = _grouped(), _grouped()

    def contributions(g):
        if g is a:
            raise KeyError("something the rules lack")
        return point_contributions(g)

    ok, items, aside = stages.contribute([a, b], NAMESPACE, contributions)
    assert ok == [b] and [i[2] for i in items] == [b.activity.source_id]
    assert aside[0].reason == "rule error in the pts ledger (KeyError)"
    assert "lack" not in aside[0].reason


@pytest.mark.parametrize(
    "batch, reason",
    [
        ({"id": "pts:x:1", "deltas": [{"stat": "P|2026|ous", "period": "2026-T1"}]}, "malformed stat key"),
        ({"id": "pts:x:1", "deltas": [{"stat": "I|2031|ous|1|num", "period": "2031"}]}, "rule year 2031"),
        ({"id": "", "deltas": []}, "without an id"),
        ({"deltas": []}, "not a delta batch: id (missing)"),
    ],
)
def test_settlement_sets_aside_delta_batches_it_cannot_sum(batch, reason):
    got, aside = stages.read([_array(batch)], stages.parse_delta_batch)
    assert got == [] and reason in aside[0].reason


def test_grouped_activity_and_its_delta_batches_name_the_rule_data_version(tmp_path):
    g = _grouped()
    assert g.rules == data_version(2026) and len(g.rules) == 16
    batches = stages.run_now(stages.apply_ledger([g], NAMESPACE, point_contributions, _MemoryLedger()))
    assert batches and all(b.rules == g.rules for b in batches)
    changed = tmp_path / "weights.csv"
    shutil.copy(weights_path(2026), changed)
    changed.write_text(changed.read_text() + "\n")
    old = {y: data_version(y) for y in YEARS}
    try:
        use_sources(weights={2026: changed})
        assert data_version(2026) != old[2026] and data_version(2025) == old[2025]
        _got, aside = stages.read([_array(g.model_dump(mode="json"))], stages.parse_grouped)
        assert aside and "this stage has" in aside[0].reason
    finally:
        use_sources()
    assert data_version(2026) == old[2026]


def _MemoryLedger():
    from isf.periods.ledger import MemoryLedger

    return MemoryLedger()
