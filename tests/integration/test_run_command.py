"""`isf run` stopped with Ctrl-C: the feed stops first, then the services, then the broker and Redis, with no
connection error printed on the way and no process of the run left behind."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def left_behind(marker: str) -> list[int]:
    """Processes whose command line names `marker` (every worker's data dir is under the run's log dir)."""
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if marker.encode() in (d / "cmdline").read_bytes():
                    pids.append(int(d.name))
            except OSError:
                continue
    return pids


def test_ctrl_c_stops_feed_services_broker_and_redis_without_connection_errors(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP", "REDIS_URL", "REDIS_CLUSTER")}
    env["ISF_LOG_DIR"] = str(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "run", "--rate", "200"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    err = b""
    try:
        os.set_blocking(proc.stderr.fileno(), False)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # streaming: the feed has sent and ingest has accepted something
            err += proc.stderr.read() or b""
            m = re.findall(rb"accepted +(\d+)", err)
            if m and int(m[-1]) > 0:
                break
            time.sleep(0.5)
        assert m and int(m[-1]) > 0, err.decode(errors="replace")[-2000:]
        proc.send_signal(signal.SIGINT)
        proc.wait(90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    os.set_blocking(proc.stderr.fileno(), True)
    err += proc.stderr.read()
    after = err.decode(errors="replace").split("stopping", 1)[1]
    assert proc.returncode == 130
    assert not re.search(r"error|exception|traceback", after, re.I), after[-2000:]
    assert left_behind(str(tmp_path)) == []
