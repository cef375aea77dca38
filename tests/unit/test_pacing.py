"""Settlement's whole-state jobs take at most their share of a core, and the view waits for something settled."""

import time

from services.settlement.pacing import Pacer, cpu_of


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_a_job_that_cost_one_second_at_a_quarter_share_waits_three_seconds_after_it():
    clock = Clock()
    pace = Pacer(share=0.25, clock=clock)
    assert pace.allowed()  # the first run is never held back
    clock.t += 1.5  # waited half a second for a core: the run cost 1 s of CPU
    pace.ran(1.0)
    clock.t += 2.9
    assert not pace.allowed()
    clock.t += 0.1
    assert pace.allowed()


def test_a_cheap_job_is_allowed_again_at_once():
    clock = Clock()
    pace = Pacer(share=0.1, clock=clock)
    pace.ran(0.0)
    assert pace.allowed()


def test_a_tenth_share_waits_nine_times_the_run():
    clock = Clock()
    pace = Pacer(share=0.1, clock=clock)
    clock.t += 2.0
    pace.ran(2.0)
    clock.t += 17.9
    assert not pace.allowed()
    clock.t += 0.1
    assert pace.allowed()


def test_the_pacer_remembers_what_its_last_run_was_made_from():
    clock = Clock()
    pace = Pacer(share=0.25, clock=clock)
    assert pace.mark is None
    pace.ran(0.1, mark=b"41")
    assert pace.mark == b"41"


def test_a_run_costs_the_cpu_of_its_thread_not_the_time_it_waited():
    (_out, waited), (total, busy) = cpu_of(time.sleep, 0.3), cpu_of(sum, range(3_000_000))
    assert waited < 0.05 and busy > 0.005 and total == sum(range(3_000_000))
