"""A rule-data upgrade rolled out mid-stream, grouper first and then the ledgers, ends after `isf redrive`
equal to replay under the new data; a redrive sent twice counts once."""

import csv
import io
import time
from collections import Counter

import pytest
import redis

from isf import stages
from isf.feed import Feed, FeedConfig
from isf.ingest import Rejected, parse, to_activity
from isf.pseudonym import DEMO_KEY
from isf.replay import Pipeline
from isf.rules import data_version, use_sources, weights_path
from services.cli.redrive import redrive
from services.cli.run import expected_state, wait_converged
from services.cli.runner import Stack, produce
from services.common import names
from services.common.redis import read_set_aside

pytestmark = pytest.mark.integration
PLAIN = FeedConfig(seed=71, corrections=0, deletes=0, duplicates=0, late=0, invalid=0)


def drg_of(raw: bytes) -> str | None:
    e = parse(raw, DEMO_KEY)
    assert not isinstance(e, Rejected)
    return stages.group([to_activity(e, DEMO_KEY)])[0].drg


def new_weights(path, drg: str) -> None:
    """The 2026 weight list with one DRG's weight doubled: the new rule data."""
    rows = list(csv.DictReader(io.StringIO(weights_path(2026).read_text(encoding="utf-8"))))
    for r in rows:
        if r["drg"] == drg:
            r["weight"] = str(2 * float(r["weight"]) + 0.5)
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def replay(evs, weights=None) -> dict:
    use_sources(weights=weights)
    try:
        return expected_state(Pipeline(DEMO_KEY).run([raw for _k, raw in evs]))
    finally:
        use_sources()


def wait_set_aside(client, stage_counts: dict[str, int], timeout: float = 90, quiet: float = 5) -> dict[str, int]:
    """The items set aside per stage, once each stage has set aside at least its count and none has set aside
    more for `quiet` seconds: a grouper killed and started again groups the batch it had not committed again,
    under the new data, and the old ledgers set those items aside too."""
    deadline = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while True:
        got = read_set_aside(client)
        if got != last:
            last, since = got, time.monotonic()
        enough = all(got.get(s, 0) >= n for s, n in stage_counts.items())
        if (enough and time.monotonic() - since >= quiet) or time.monotonic() > deadline:
            return got
        time.sleep(0.5)


def test_rule_data_upgraded_grouper_first_then_ledgers_ends_after_redrive_equal_to_replay_under_new_data(
    tmp_path, monkeypatch
):
    evs = list(Feed(PLAIN).events(1500))
    drgs = Counter(d for d in map(drg_of, (raw for _k, raw in evs)) if d)
    changed = next(d for d, _n in drgs.most_common() if d not in ("470",))
    # events of the changed DRG come after the grouper's upgrade: everything before it groups the same
    # under either data, so the end state is replay under the new data
    before = [e for e in evs if drg_of(e[1]) != changed]
    after = [e for e in evs if drg_of(e[1]) == changed]
    new = tmp_path / "weights-2026.csv"
    new_weights(new, changed)
    old_version = data_version(2026)
    expected_new = replay(before + after, {2026: new})
    assert expected_new["rows"] != replay(before + after)["rows"]
    with Stack() as stack:
        client = redis.Redis.from_url(stack.infra.redis_url)
        produce(stack.infra.bootstrap, before)
        ok, _got, _w = wait_converged(client, replay(before), timeout=120)
        assert ok

        monkeypatch.setenv("ISF_WEIGHTS_2026", str(new))
        stack.restart_worker("grouper")  # grouper first: the old ledgers set aside what it groups now
        produce(stack.infra.bootstrap, after)
        aside = wait_set_aside(client, {"aggregator": len(after), "indicators": len(after)})
        assert aside.get("aggregator", 0) >= len(after) and aside.get("indicators", 0) >= len(after)
        for name in ("aggregator", "indicators"):
            stack.restart_worker(name)
        assert read_set_aside(client) == aside  # the new ledgers set nothing aside

        plan = redrive(stack.infra.bootstrap, client, dry_run=True)
        assert plan["dry_run"] and plan["already_redriven"] == 0
        assert plan["would_send"] == {
            "aggregator -> isf.activity": aside["aggregator"],
            "indicators -> isf.activity": aside["indicators"],
        }
        assert all(f"; this stage has {old_version}" in reason for reason in plan["reasons"])
        assert not client.exists(names.REDRIVEN)  # a dry run sends and marks nothing

        sent = redrive(stack.infra.bootstrap, client)
        assert sent["sent"] == plan["would_send"]
        ok, got, waited = wait_converged(client, expected_new, timeout=120)
        assert got.get("points_micro_by_hf") == expected_new["points_micro_by_hf"]
        assert ok, "after the redrive the totals differ from replay under the new data"

        again = redrive(stack.infra.bootstrap, client)
        assert again["sent"] == {} and again["already_redriven"] == again["set_aside"]
        client.delete(names.REDRIVEN)  # forget what was sent: every item goes a second time, and counts once
        redrive(stack.infra.bootstrap, client)
        time.sleep(5)
        ok, got, _w = wait_converged(client, expected_new, timeout=60)
        assert ok and got["rows"] == expected_new["rows"]
