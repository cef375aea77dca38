"""Settlement's whole-state jobs take at most their share of a core, and the view waits for something settled."""

from services.settlement.pacing import Pacer


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_a_job_that_took_one_second_at_a_quarter_share_waits_three_seconds_after_it():
    clock = Clock()
    pace = Pacer(share=0.25, clock=clock)
    assert pace.allowed()  # the first run is never held back
    started = clock.t
    clock.t += 1.0
    pace.ran(started)
    clock.t += 2.9
    assert not pace.allowed()
    clock.t += 0.1
    assert pace.allowed()


def test_a_cheap_job_is_allowed_again_at_once():
    clock = Clock()
    pace = Pacer(share=0.1, clock=clock)
    pace.ran(clock.t)  # took no time
    assert pace.allowed()


def test_a_tenth_share_waits_nine_times_the_run():
    clock = Clock()
    pace = Pacer(share=0.1, clock=clock)
    started = clock.t
    clock.t += 2.0
    pace.ran(started)
    clock.t += 17.9
    assert not pace.allowed()
    clock.t += 0.1
    assert pace.allowed()


def test_the_pacer_remembers_what_its_last_run_was_made_from():
    clock = Clock()
    pace = Pacer(share=0.25, clock=clock)
    assert pace.mark is None
    pace.ran(clock.t, mark=b"41")
    assert pace.mark == b"41"
