"""Long commands show progress on a terminal (done, rate, time left) and nothing when their output is piped."""

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from isf.feed import Feed, FeedConfig
from services.common.progress import Progress

ROOT = Path(__file__).resolve().parents[2]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_shows_what_is_done_the_rate_and_the_time_left():
    out, now = Terminal(), [100.0]
    p = Progress("replay", stream=out, clock=lambda: now[0])
    now[0] = 110.0
    p.update(20_000, 0.25)
    assert out.getvalue() == "\rreplay: 20,000 events (25 %), 2,000 events/s, 0:00:30 left"
    now[0] = 110.2
    p.update(21_000, 0.26)  # within half a second of the last line: not redrawn
    assert out.getvalue().count("\r") == 1
    now[0] = 150.0
    p.close(80_000)
    last = out.getvalue().rsplit("\r", 1)[1]
    assert last.endswith("\n") and last.rstrip() == "replay: 80,000 events in 0:00:50, 1,600 events/s"


def test_progress_writes_nothing_when_its_stream_is_not_a_terminal():
    out = io.StringIO()
    p = Progress("replay", stream=out)
    p.update(10, 0.5)
    p.close(20)
    assert out.getvalue() == ""


@pytest.fixture(scope="module")
def events(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("progress") / "feed.jsonl"
    path.write_bytes(b"".join(raw + b"\n" for _k, raw in Feed(FeedConfig(seed=4)).events(2500)))
    return path


@pytest.mark.parametrize("workers", ["1", "2"])
def test_isf_replay_shows_progress_on_a_terminal_and_is_quiet_when_piped(events, workers):
    cmd = [sys.executable, "-m", "services.cli", "replay", "--workers", workers, str(events)]
    piped = subprocess.run(cmd, cwd=ROOT, capture_output=True, timeout=300)
    assert piped.returncode == 0 and piped.stderr == b""
    main, terminal = pty.openpty()
    try:
        shown = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=terminal, timeout=300)
        os.close(terminal)
        terminal = -1
        seen = b""
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if terminal >= 0:
            os.close(terminal)
        os.close(main)
    assert shown.returncode == 0 and shown.stdout == piped.stdout
    text = seen.decode()
    assert "replay" in text and "/s" in text and " in 0:" in text


def test_isf_feed_to_a_file_piped_says_only_what_it_wrote(tmp_path):
    out = tmp_path / "feed.jsonl"
    cmd = [sys.executable, "-m", "services.cli", "feed", "--count", "1500", "--out", str(out)]
    piped = subprocess.run(cmd, cwd=ROOT, capture_output=True, timeout=120)
    assert piped.returncode == 0 and piped.stderr.decode() == f"1500 events -> {out}\n"
    assert len(out.read_bytes().splitlines()) == 1500
