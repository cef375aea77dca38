"""The synthetic feed: reproducible, and its case mix groups without error DRGs."""
from isf.feed import Feed, FeedConfig
from isf.replay import Pipeline


def test_same_seed_same_events():
    assert list(Feed(FeedConfig(seed=4)).events(300)) == list(Feed(FeedConfig(seed=4)).events(300))


def test_feed_groups_without_error_drgs_and_reaches_every_system():
    r = Pipeline(b"k").run([raw for _k, raw in Feed(FeedConfig(seed=9)).events(6000)]).result()
    drgs = r["counts"]["2026"]["DRG"]
    assert "470" not in drgs and "477" not in drgs
    assert set(r["counts"]["2026"]) == {"DRG", "STG", "TFG"}
    assert r["events"]["dead_lettered"] > 0 and r["events"]["superseded"] + r["events"]["duplicate"] > 0
