"""Any delivery order, same numbers: permutations of real feed slices, with duplicates, end in identical state.

The same property runs against the Redis twin in `tests/integration/test_any_order_redis.py`.
"""

import json
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from isf.feed import Feed, FeedConfig
from isf.replay import Pipeline

from .helpers import KEY

# a feed slice dense in what conflicts: corrections, withdrawals, late and repeated versions
HARSH = dict(corrections=0.12, deletes=0.06, duplicates=0.05, late=0.05, invalid=0.01)


def feed_slice(seed: int, n: int) -> list[bytes]:
    return [raw for _k, raw in Feed(FeedConfig(seed=seed, **HARSH)).events(n)]


def with_conflicts(events: list[bytes], rng: random.Random) -> list[bytes]:
    """Add what a hospital can send besides the feed's own: an upsert and a delete of one source under the
    same version, and a resend of a version with a new event id and other content."""
    out = list(events)
    parsed = [json.loads(e) for e in events if e.startswith(b'{"')]
    valid = [e for e in parsed if "version" in e and "hf" in e and e.get("action") == "upsert"]
    for i, ev in enumerate(rng.sample(valid, min(6, len(valid)))):
        twin = {**ev, "event_id": f"twin-{i}-{ev['event_id']}"}
        if i % 2 == 0:
            twin["action"] = "delete"
        elif "procedures" in twin:
            twin["procedures"] = list(twin["procedures"]) + ["WMGA28"]
        out.append(json.dumps(twin).encode())
    return out


def state(events: list[bytes]) -> dict:
    r = Pipeline(KEY).run(events).result()
    r.pop("events")  # delivery counters (accepted vs superseded) depend on the order by design
    return r


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), data=st.data())
def test_every_permutation_of_a_feed_slice_with_duplicates_replays_to_the_same_state(seed, data):
    events = with_conflicts(feed_slice(seed, 250), random.Random(seed))
    order = data.draw(st.permutations(events))
    dups = data.draw(st.lists(st.sampled_from(events), max_size=20))
    assert state(list(order) + dups) == state(events)


def test_a_shuffled_30000_event_feed_replays_to_the_identical_summary_apart_from_delivery_counters():
    events = feed_slice(5, 30_000)
    shuffled = list(events)
    random.Random(1).shuffle(shuffled)
    assert state(shuffled) == state(events)


def test_an_upsert_and_a_delete_of_one_version_end_withdrawn_in_either_order():
    from .helpers import episode, raw

    up = episode(episode_id="x", version=2, event_id="a")
    down = {**up, "event_id": "b", "action": "delete"}
    for order in ((up, down), (down, up)):
        r = Pipeline(KEY).run([raw(e) for e in order]).result()
        assert r["points_micro_by_hf"] == {}
