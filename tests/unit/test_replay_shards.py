"""A replay sharded over processes ends in the single process's numbers: every counter and every total."""

import json
from functools import partial

import pytest

from isf.feed import Feed, FeedConfig
from isf.replay import Pipeline
from isf.settlement.redistribution import pipelines
from services.cli import replay_shards

from .helpers import KEY

HARSH = dict(corrections=0.12, deletes=0.06, duplicates=0.05, late=0.05, invalid=0.02)


@pytest.fixture(scope="module")
def events(tmp_path_factory) -> str:
    """A harsh feed slice, plus sources whose patient is corrected (their state moves between patients,
    so between shards of the second phase) and bad lines repeated verbatim (counted once as dead letters)."""
    raws = [raw for _k, raw in Feed(FeedConfig(seed=41, **HARSH)).events(3000)]
    upserts = [json.loads(r) for r in raws if r.startswith(b'{"') and b'"upsert"' in r][:40]
    moved = [
        {**e, "event_id": f"moved-{i}", "version": e["version"] + 5, "patient_id": f"SYN-moved-{i:07d}"}
        for i, e in enumerate(upserts)
    ]
    raws += [json.dumps(e).encode() for e in moved] + [b"not json at all"] * 3 + [b'{"hf": "ous"}'] * 2
    path = tmp_path_factory.mktemp("shards") / "events.jsonl"
    path.write_bytes(b"\n".join(raws) + b"\n")
    return str(path)


@pytest.mark.parametrize("workers", [2, 3])
def test_a_sharded_replay_counts_and_totals_exactly_what_one_process_does(events, workers):
    one = replay_shards.run(events, partial(Pipeline, KEY), 1)
    assert one[0]["dead_lettered"] >= 2 and one[0]["repeat"] >= 3  # the repeated bad lines are in the input
    assert replay_shards.run(events, partial(Pipeline, KEY), workers) == one


def test_workers_that_settle_many_patient_shards_each_in_turn_count_and_total_what_one_process_does(events):
    """7 patient shards on 2 workers: one worker settles 4 of them one after another, the other 3, each
    dropping a shard's ledgers before the next (the memory a national year needs)."""
    one = replay_shards.run(events, partial(Pipeline, KEY), 1)
    assert replay_shards.run(events, partial(Pipeline, KEY), 2, shards=7) == one


def test_the_patient_shards_are_the_fewest_multiple_of_the_workers_holding_at_most_shard_bytes_each():
    cut = replay_shards.SHARD_BYTES
    for size in (0, 1, cut, 2 * cut, 2 * cut + 1, 12_000_000 * 570):
        for workers in (1, 2, 3):
            shards = replay_shards.patient_shards(size, workers)
            assert shards % workers == 0 and size <= shards * cut
            assert shards == workers or size > (shards - workers) * cut


def test_a_sharded_redistribution_sums_the_same_totals_as_one_process(events):
    for make in pipelines(KEY, 2025, 2026, regroup=False) + pipelines(KEY, 2025, 2026, regroup=True):
        assert replay_shards.run(events, make, 2)[1] == replay_shards.run(events, make, 1)[1]


def _broken() -> Pipeline:
    raise RuntimeError("no pipeline")


def test_a_worker_that_dies_stops_the_replay_with_its_name(events):
    with pytest.raises(RuntimeError, match="isf-replay-0|isf-replay-1"):
        replay_shards.run(events, _broken, 2)


def test_a_source_is_keyed_the_same_whether_its_line_is_read_by_pattern_or_parsed():
    from isf.replay import source_key

    plain = b'{"hf": " ous ", "episode_id": "e1", "main_condition": "K291"}'
    escaped = b'{"hf": "o\\u0075s", "episode_id": "e1", "main_condition": "K\\u0032 91"}'
    assert source_key(plain) == source_key(escaped) == source_key(b'{"episode_id":"e1","hf":"ous"}')
    assert source_key(b"not json") != source_key(b"not json either")


def test_contributions_come_back_from_the_spool_form_equal(events):
    """The spools carry contributions as plain tuples (`Contributions.packed`): every item of both ledgers,
    DRG/STG/TFG units and indicator units alike, is rebuilt equal."""
    import pickle

    from isf import stages
    from isf.periods.ledger import Contributions

    pipe = Pipeline(KEY)
    with open(events, "rb") as fh:
        grouped = pipe.front([line.rstrip(b"\n") for line in fh][:1500])
    seen = [c for ns, make in pipe.ledgers for *_, c, _close in stages.ledger_items(grouped, ns, make)]
    assert any(c.units for c in seen) and any(c.items for c in seen)
    assert [Contributions.unpacked(pickle.loads(pickle.dumps(c.packed()))) for c in seen] == seen
