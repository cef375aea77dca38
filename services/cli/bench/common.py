"""What every part of the bench shares: the machine's description, logging, ratios, per-process CPU and memory
from /proc, and the synthetic activities the grouper is timed on."""

from __future__ import annotations

import os
import platform
import random
import sys
import time
from pathlib import Path

NATIONAL_YEAR_EVENTS = 12_000_000


def _ratio(value: float, baseline: float) -> float:
    return round(value / baseline, 4) if baseline else float("nan")


def _log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def machine() -> dict:
    try:
        model = next(
            (line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), ""
        )
    except OSError:
        model = ""
    return {
        "cpus": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
    }


def _activities(n: int, seed: int):
    """Episodes of the synthetic feed: realistic, so codes repeat (ages and dates rarely do)."""
    from isf.feed import Feed, FeedConfig
    from isf.ingest import Rejected, parse, to_activity

    out = []
    for _k, raw in Feed(FeedConfig(seed=seed, invalid=0, deletes=0)).events(n):
        e = parse(raw, b"bench")
        if not isinstance(e, Rejected):
            a = to_activity(e, b"bench")
            if a.end is not None:
                out.append(a)
    return out


def _distinct_activities(n: int, seed: int) -> list:
    """Episodes made of random codes of the rule years' own tables (as drgpy's baseline draws from its
    own maps), with no two alike as the grouper sees them: no case string repeats."""
    from datetime import datetime, timedelta

    from isf.events import Activity
    from isf.grouping.mapping import to_case
    from isf.rules import YEARS, rule_year

    rng = random.Random(seed)
    codes = {y: (sorted(rule_year(y).definitions.dg), sorted(rule_year(y).definitions.proc)) for y in YEARS}
    seen: set = set()
    out: list[Activity] = []
    while len(out) < n:
        year = rng.choice(YEARS)
        dx, pr = codes[year]
        care = rng.choice(("inpatient", "day", "outpatient"))
        start = datetime(year, 1, 1, 7) + timedelta(minutes=rng.randrange(0, 320 * 24 * 60))
        stay = timedelta(
            days=rng.choice((0, 1, 2, 3, 4, 6, 9, 14, 30)) if care == "inpatient" else 0, hours=rng.randrange(1, 10)
        )
        a = Activity(
            source_id=f"E:bench:{len(out)}",
            kind="episode",
            version=1,
            hf="bench",
            rhf="bench",
            patient="bench",
            age_days=rng.randrange(0, 100 * 365),
            sex=rng.choice("MF"),
            sector=rng.choice(("somatic", "somatic", "phv", "tsb")),
            care_level=care,
            start=start,
            end=start + stay,
            main_condition=rng.choice(dx),
            secondary_conditions=tuple(rng.choice(dx) for _ in range(rng.randint(0, 5))),
            procedures=tuple(rng.choice(pr) for _ in range(rng.choice((0, 0, 1, 2)))),
            urgency=rng.choice(("planned", "acute")),
        )
        case = to_case(a)
        if case not in seen:
            seen.add(case)
            out.append(a)
    return out


def _per_cpu_second(runs: dict, rounds: int = 3) -> dict:
    """Items per second of this process's CPU time (one core; other processes on the machine do not
    count), best of `rounds` passes, the passes of every run interleaved so that they share conditions."""
    best = {name: 0.0 for name in runs}
    for _ in range(rounds):
        for name, (fn, items) in runs.items():
            t = time.process_time()
            for x in items:
                fn(x)
            best[name] = max(best[name], len(items) / max(time.process_time() - t, 1e-9))
    return best


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_kib(pid: int) -> int:
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def watched_pids(stack) -> dict[str, int]:
    """The processes whose CPU the bench counts: every service worker, the broker, redis-server, and the bench
    itself (the feed; left out of the totals)."""
    pids = {name: procs[0].pid for name, procs in stack.workers.items()}
    for name, proc in (("broker", stack.infra.broker_proc), ("redis", stack.infra.redis_proc)):
        if proc is not None:
            pids[name] = proc.pid
    pids[FEED] = os.getpid()
    return pids


FEED = "bench (feed)"


def cpu_us_per_event(cpu0: dict[str, float], pids: dict[str, int], events: int) -> dict:
    """CPU microseconds per event of each process since `cpu0`, and of all but the bench's feed together."""
    each = {name: (_cpu_s(pid) - cpu0[name]) / max(1, events) * 1e6 for name, pid in pids.items()}
    return {**{k: round(v) for k, v in each.items()}, "all": round(sum(v for k, v in each.items() if k != FEED))}


def _script_commands() -> frozenset[str]:
    import re

    from services.common.redis.scripts import LUA

    texts = [f.read_text() for f in LUA.glob("*.lua")]
    found = {c.lower() for text in texts for c in re.findall(r"redis\.call\('(\w+)'", text)}
    return frozenset(found)


def redis_usec(client) -> float:
    """Redis's own time so far, from INFO commandstats: the scripts' calls (their time includes every command
    they run) and the commands no script runs. Commands a script runs are also counted on their own there, so
    summing every line would count the scripts' work twice; the few top-level calls of a command that scripts
    also run (a worker's stats once a second, the bench's own polling) are left out with them."""
    inner = _script_commands()
    total = 0.0
    for name, stat in client.info("commandstats").items():
        cmd = name.removeprefix("cmdstat_").split("|")[0]
        if cmd in ("eval", "evalsha", "eval_ro", "evalsha_ro", "fcall") or cmd not in inner:
            total += stat["usec"]
    return total
