"""The national bench takes its year through the services in broker lifetimes (the local broker keeps every
record in memory): a year cut into three lifetimes on one Redis settles exactly what the replay of the same
events settles, and the figures say how many events each lifetime took."""

import pytest

from services.cli.bench import national_summary
from services.cli.bench.national import bench_national

pytestmark = pytest.mark.integration


def test_a_year_in_three_broker_lifetimes_settles_what_its_replay_settles():
    year = bench_national(6_000, lifetime=2_500, seconds=1, converge_timeout=120)
    services = year["services"]
    assert services["equal_to_replay"] is True
    assert [x["events"] for x in services["lifetimes"]] == [2_500, 2_500, 1_000]
    assert year["replay"]["events"] == services["events"] == 6_000
    summary = national_summary({"national": year})
    assert summary["national_year_streaming_extrapolated"] is True  # 6 000 events, not a year
    assert summary["p99_s_at_1000"] is not None and summary["redis_bytes_per_event"] > 0
