"""The embedded default's supervisor restarts a worker that exited, backing off when it keeps exiting."""

import subprocess
import sys

from services.cli.runner import Stack


class ExitingStack(Stack):
    """Workers that end at once, as a service does on an error it cannot get past."""

    def start_worker(self, name: str) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(70)"])
        proc.wait(30)
        self.workers.setdefault(name, []).append(proc)
        return proc


def test_a_worker_that_keeps_exiting_is_restarted_after_a_growing_back_off():
    stack = ExitingStack()
    stack.start_worker("grouper")
    times = (0, 0.5, 1.0, 1.5, 2.5, 3.0, 4.5, 6.9, 7.0, 100, 100.5)
    restarted_at = [t for t in times if stack.supervise(now=t)]
    # at once, then 1 s, 2 s and 4 s after the last restart; more than a minute after it, at once again
    assert restarted_at == [0, 1.0, 3.0, 7.0, 100]
