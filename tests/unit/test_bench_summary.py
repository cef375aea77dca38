"""The bench's summary lifts its keys from the run's sections, and Redis's own time counts a script's work once."""

from services.cli.bench import national_summary, summary
from services.cli.bench.common import redis_usec


def _doc(grown_us: int | None = 150) -> dict:
    return {
        "replay": {
            "value": 1,
            "national_year_s": {"value": 2},
            "workers": 2,
            "redistribute": {"national_year_s": {"value": 3}},
        },
        "grouper": {"grouper_ratio_vs_drgpy": 2.5},
        "redis_memory": {"all_state_bytes_per_event": 500, "baseline": {"bare_set_member": {"ratio": 1.0}}},
        "pipeline": {
            "value": 900,
            "events": 20000,
            "cpu_us_per_event": {"redis": 170, "ingest": 60, "all": 480},
            "redis_us_per_event": {"value": 200},
            "baseline": {
                "raw_aiokafka_consume_transform_produce": {"value": 9000, "ratio": 0.1},
                "raw_chain": {"value": 1800, "ratio": 0.5},
            },
            "national_year_s": {"value": 13333, "extrapolated": True},
        },
        "latency": {"1000": {"p99": 0.8, "dashboard_trail_s": {"value": 1.8}}},
        "on_state": {
            "preload": {"events": 1_000_000},
            "flood": {"redis_us_per_event": grown_us},
            "latency": {"1000": {"p99": 1.2, "dashboard_trail_s": {"value": 2.4}}},
        },
    }


def test_summary_carries_the_chain_ratio_cpu_and_the_grown_state():
    s = summary(_doc())
    assert s["pipeline_ratio_vs_raw_chain"] == 0.5 and s["pipeline_ratio_vs_raw"] == 0.1
    assert s["cpu_us_per_event"] == 480
    assert s["redis_us_per_event_fresh"] == 200 and s["redis_us_per_event_on_1m_state"] == 150
    assert s["redis_us_per_event_growth"] == 0.75
    assert (s["p99_s_at_1000_on_1m_state"], s["dashboard_trail_s_at_1000_on_1m_state"]) == (1.2, 2.4)
    assert s["preloaded_events"] == 1_000_000 and s["p99_s_at_1000"] == 0.8


def test_summary_without_a_grown_figure_gives_no_growth():
    assert summary(_doc(grown_us=None))["redis_us_per_event_growth"] is None


def test_a_run_without_a_phase_has_its_keys_null():
    empty = summary({})
    assert set(empty) == set(summary(_doc())) and all(v is None for v in empty.values())


def _year(events: int) -> dict:
    lifetimes = [
        {"events": events // 4, "cpu_us_per_event": 600},
        {"events": events - events // 4, "cpu_us_per_event": 400},
    ]
    return {
        "national": {
            "events": events,
            "replay": {"events_per_s": 10_000, "seconds": events // 10_000, "workers": 2},
            "services": {
                "events": events,
                "seconds": events // 2_000,
                "events_per_s": 2_000,
                "lifetimes": lifetimes,
                "equal_to_replay": True,
                "redis_bytes_per_event": 520,
                "redis_used_memory": 520 * events,
            },
            "latency": {"1000": {"p99": 0.9, "dashboard_trail_s": {"value": 1.7}}},
        }
    }


def test_a_national_year_run_to_the_end_is_measured_not_extrapolated():
    s = national_summary(_year(12_000_000))
    assert s["national_year_streaming_extrapolated"] is False
    assert (s["national_year_streaming_s"], s["national_year_replay_s"]) == (6_000, 1_200)
    assert s["streaming_events_measured"] == 12_000_000 and s["national_year_streams_equal_to_replay"] is True
    assert s["cpu_us_per_event"] == 450  # weighted by each broker lifetime's events
    assert (s["p99_s_at_1000"], s["dashboard_trail_s_at_1000"]) == (0.9, 1.7)
    assert s["pipeline_ratio_vs_raw_chain"] is None  # a phase the national run does not take


def test_a_shorter_national_run_is_extrapolated_to_the_year():
    s = national_summary(_year(1_200_000))
    assert s["national_year_streaming_extrapolated"] is True
    assert (s["national_year_streaming_s"], s["national_year_replay_s"]) == (6_000, 1_200)


class _Stats:
    def __init__(self, stats: dict):
        self.stats = stats

    def info(self, section: str) -> dict:
        assert section == "commandstats"
        return self.stats


def test_redis_time_counts_scripts_with_their_commands_once():
    stats = {
        "cmdstat_evalsha": {"calls": 10, "usec": 1000},  # includes the HSETs and HINCRBYs the scripts ran
        "cmdstat_hset": {"calls": 40, "usec": 300},
        "cmdstat_hincrby": {"calls": 20, "usec": 100},
        "cmdstat_info": {"calls": 1, "usec": 7},  # no script runs INFO
        "cmdstat_script|load": {"calls": 5, "usec": 50},
    }
    assert redis_usec(_Stats(stats)) == 1000 + 7 + 50
