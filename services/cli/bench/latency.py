"""The send-to-settled latency at a fixed rate, and the dashboard's trail behind it."""

from __future__ import annotations

import itertools
import json
import statistics
import threading
import time

POLL_AT_MOST = 500  # pending batch ids the latency poller asks Redis about per round (every 50 ms)


class _Tracker:
    """Replays what is sent, so the bench knows which delta batches each sent event must produce."""

    def __init__(self):
        from isf.pseudonym import DEMO_KEY
        from isf.replay import Pipeline

        self.new: list[str] = []
        self.pipe = Pipeline(DEMO_KEY, on_batch=lambda b: self.new.append(b.id))

    def handle(self, raw: bytes) -> list[str]:
        self.new = []
        self.pipe.handle(raw)
        return self.new


class _Dashboard(threading.Thread):
    """Follows the monitor's event stream as the dashboard page does: on each pushed view it reads
    `/api/summary` and notes (the view's generated_at, when the answer was in hand), wall clock."""

    def __init__(self, base: str, token: str):
        super().__init__(daemon=True)
        self.base, self.token = base, token
        self.shown: list[tuple[float, float]] = []
        self.stop = threading.Event()
        self.since = time.time()  # the view sent on connecting may be older: it is current until totals move

    def run(self) -> None:
        import urllib.request

        headers = {"Authorization": f"Bearer {self.token}"}
        req = urllib.request.Request(f"{self.base}/api/events", headers=headers)
        with urllib.request.urlopen(req, timeout=30) as stream:
            for line in stream:
                if self.stop.is_set():
                    return
                if line.startswith(b"data: "):
                    at = json.loads(line[6:])["generated_at"]
                    with urllib.request.urlopen(urllib.request.Request(f"{self.base}/api/summary", headers=headers)):
                        pass
                    self.shown.append((at, time.time()))

    def trail(self, sent: float, settled: float) -> float | None:
        """Seconds from sending an event to the page holding the first view read after it settled."""
        for at, done in self.shown:
            if at >= settled:
                return done - sent
        return None


def _latency(stack, client, tracker: _Tracker, feed, rate: int, seconds: float) -> dict:
    """Send at a fixed rate; for each event that produces settled deltas, time until all its batch ids are in
    an applied table (`isf:{totals}:batches:<year>`), i.e. until the dashboard's totals include it."""
    from services.common.redis import applied_digest, read_applied

    from ..runner import produce

    pending: dict[str, tuple[float, int, bytes]] = {}  # batch id -> (sent at, event index, its applied digest)
    remaining: dict[int, int] = {}
    sent_at: dict[int, float] = {}
    lock = threading.Lock()
    count = int(rate * seconds)
    stop = threading.Event()

    # the replay that says which batches each event must produce runs before the clock starts,
    # so the sender does nothing but send at the target rate
    planned = []
    for _ in range(count):
        key, raw = next(feed)
        planned.append((key, raw, [(b, applied_digest(b)) for b in tracker.handle(raw)]))

    def events():
        for i, (key, raw, ids) in enumerate(planned):
            now = time.monotonic()
            with lock:
                if ids:
                    sent_at[i] = now
                    remaining[i] = len(ids)
                    for b, digest in ids:
                        pending[b] = (now, i, digest)
            yield key, raw

    wall = time.time() - time.monotonic()  # monotonic + wall = the clock the view's generated_at is on
    settled: list[tuple[float, float]] = []  # (sent, settled) per measured event, monotonic
    page = _Dashboard(f"http://127.0.0.1:{stack.monitor_port}", stack.tokens["national"])
    page.start()

    stopped = [0.0]
    progress = [0.0]

    def poll():
        while not (stop.is_set() and not pending):
            # Asking Redis about every pending batch 20 times a second loads the machine under test as much as
            # the load does once thousands are pending: ask about POLL_AT_MOST a round, in turn (those asked and
            # not found go to the back), so a batch that never settles (a version overtaken in flight) cannot
            # keep later ones from being asked about; each id is asked about at least every pending/POLL_AT_MOST
            # rounds. One script call with digests made before the clock started (a pipeline of a command per id
            # cost the bench process more CPU than any service).
            with lock:
                ids = list(itertools.islice(pending, POLL_AT_MOST))
                digests = [pending[b][2] for b in ids]
            if ids:
                found = read_applied(client, ids, digests)
                now = time.monotonic()
                with lock:
                    for b, hit in zip(ids, found):
                        if hit:
                            _t, i, _d = pending.pop(b)
                            remaining[i] -= 1
                            if remaining[i] == 0:
                                settled.append((sent_at.pop(i), now))
                        elif b in pending:
                            pending[b] = pending.pop(b)  # to the back of the turn
                    if any(found):
                        progress[0] = now
            time.sleep(0.05)
            # a batch of a version that a newer one overtook is never settled (the ledger skips
            # outdated versions): stop waiting once nothing has settled for 10 s
            if stop.is_set() and time.monotonic() - max(progress[0], stopped[0]) > 10:
                return

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    t0 = time.monotonic()
    produce(stack.infra.bootstrap, events(), rate=rate)
    achieved = count / (time.monotonic() - t0)
    stopped[0] = time.monotonic()
    stop.set()
    poller.join()
    last = max((b for _a, b in settled), default=0.0) + wall
    deadline = time.monotonic() + 10  # until the page has shown a view read after the last event settled
    while not (page.shown and page.shown[-1][0] >= last) and time.monotonic() < deadline:
        time.sleep(0.1)
    page.stop.set()
    trail = sorted(t for t in (page.trail(a + wall, b + wall) for a, b in settled) if t is not None)
    lat = sorted(b - a for a, b in settled)

    def quantile(xs: list[float], p: float) -> float | None:
        return round(xs[min(len(xs) - 1, int(p * len(xs)))], 3) if xs else None

    ages = [done - at for at, done in page.shown if at >= page.since]
    return {
        "unit": "s from send to settled totals",
        "target_rate": rate,
        "achieved_send_rate": round(achieved),
        "events": count,
        "measured": len(lat),
        "never_settled": {"batches": len(pending), "why": "versions overtaken by a newer one in flight"},
        "p50": quantile(lat, 0.50),
        "p99": quantile(lat, 0.99),
        "max": lat[-1] if lat else None,
        "mean": round(statistics.fmean(lat), 3) if lat else None,
        "view_age_when_shown_s": {
            "mean": round(statistics.fmean(ages), 3) if ages else None,
            "max": round(max(ages), 3) if ages else None,
            "views": len(ages),
        },
        "dashboard_trail_s": {
            "value": quantile(trail, 0.99),
            "typical": quantile(trail, 0.50),
            "max": trail[-1] if trail else None,
            "events": len(trail),
            "how": "measured: a client follows the monitor's event stream as the page does and reads /api/summary "
            "on each pushed view; per event, from sending it to that answer being in hand for the first view whose "
            "totals were read after the event settled; value p99, typical p50",
        },
    }


def timed_latency(stack, client, tracker: _Tracker, feed, rate: int, seconds: float) -> dict:
    """`_latency`, with the CPU per event of every process and Redis's own time per event while it ran."""
    import os

    from .common import _cpu_s, cpu_us_per_event, redis_usec, watched_pids

    pids = watched_pids(stack)
    cpu0 = {name: _cpu_s(pid) for name, pid in pids.items()}
    usec0 = redis_usec(client)
    t0 = time.monotonic()
    lat = _latency(stack, client, tracker, feed, rate, seconds)
    busy = sum(_cpu_s(pid) - cpu0[name] for name, pid in pids.items())
    lat["cpu_us_per_event"] = cpu_us_per_event(cpu0, pids, lat["events"])
    lat["cpu_busy_of_2_cores"] = round(busy / (time.monotonic() - t0) / (os.cpu_count() or 1), 3)
    lat["redis_us_per_event"] = round((redis_usec(client) - usec0) / max(1, lat["events"]))
    return lat
