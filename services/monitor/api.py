"""The monitor's read model: every API answer built from materialised Redis state and scoped to a role.

Pure functions of (Redis client, role, parameters) so the HTTP layer (`app.py`) only maps
`ApiError` to its status code; an error message never repeats the parameter it refuses. Every answer
leaves through `isf.access.scope` with its document kind, which keeps only what a rule grants the role.
No patient-level data is ever read here.
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta, timezone

from isf.access import Denied, Role, scope
from isf.periods.calendar import tertial_of
from isf.registry import RHFS, hospitals
from isf.settlement.export import to_csv, to_xlsx
from isf.settlement.statements import StatementError, kind_of
from services.common import names

from ..common.redis import read_errors, read_hf_counters, read_processed, read_set_aside

PERIODS = ("year", "tertial", "T1", "T2", "T3", "today")
SERVICES = ("ingest", "grouper", "aggregator", "indicators", "settlement")
DIGITS = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() also takes ٢٠٢٦


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def guard(fn, *args, **kw):
    """Domain errors to HTTP statuses: unknown thing 404, out of scope 403, bad value 400."""
    try:
        return fn(*args, **kw)
    except Denied as exc:
        raise ApiError(403, str(exc)) from exc
    except KeyError as exc:
        raise ApiError(404, str(exc.args[0]) if exc.args else "not found") from exc


def _view(r) -> dict:
    raw = r.hget(names.VIEWS, names.VIEW_SUMMARY)
    return json.loads(raw) if raw else {"years": {}, "generated_at": None}


def _year(view: dict, year: str | None) -> str:
    years = sorted(view["years"])
    if year is None:
        return years[-1] if years else str(datetime.now(timezone.utc).year)
    if not DIGITS.fullmatch(year) or len(year) != 4:
        raise ApiError(400, "year must be four digits (0-9)")
    return year


def _period_label(year: str, period: str) -> str:
    if period not in PERIODS:
        raise ApiError(400, f"period must be one of {', '.join(PERIODS)}")
    if period == "year":
        return year
    if period == "tertial":
        now = datetime.now(timezone.utc)
        return tertial_of(year, now.month if str(now.year) == year else 12)  # another year: its last tertial
    return f"{year}-{period}"


def me(role: Role) -> dict:
    """The caller's role and the HFs and RHFs it sees."""
    return scope({"role": str(role), "hfs": role.hfs(), "rhfs": [r for r in RHFS if role.sees_rhf(r)]}, "me", role)


def summary(r, role: Role, year: str | None = None, period: str = "tertial") -> dict:
    """Points and NOK per HF and RHF (and nation) for one period, with the same period a year earlier."""
    view = _view(r)
    y = _year(view, year)
    if period == "today":
        return today(r, role)
    label = _period_label(y, period)
    prev_label = label.replace(y, str(int(y) - 1), 1)
    cur, prev = view["years"].get(y, {}), view["years"].get(str(int(y) - 1), {})

    def node(year_doc: dict, level: str, name: str) -> dict:
        return year_doc.get(level, {}) if level == "national" else year_doc.get(level, {}).get(name, {})

    def pick(level: str, name: str) -> dict:
        entry = node(cur, level, name).get("periods", {}).get(label)
        last = node(prev, level, name).get("periods", {}).get(prev_label)
        return {**(entry or {"points": {}, "points_total": "0", "nok": "0.00"}), "same_period_last_year": last}

    doc = {
        "year": int(y),
        "period": period,
        "label": label,
        "generated_at": view.get("generated_at"),
        "hf": {hf: {"rhf": hospitals()[hf].rhf, **pick("hf", hf)} for hf in cur.get("hf", {})},
        "rhf": {rh: pick("rhf", rh) for rh in cur.get("rhf", {})},
        "rhf_sorge_for": {rh: pick("rhf_sorge_for", rh) for rh in cur.get("rhf_sorge_for", {})},
        "national": pick("national", "all"),
    }
    return scope(doc, "summary", role)


def today(r, role: Role) -> dict:
    now = datetime.now(timezone.utc)
    series = timeseries(r, role, "hour", now.hour + 1)
    doc = {
        "period": "today",
        "label": now.date().isoformat(),
        "unit": "ISF points settled today (UTC)",
        "hf": {hf: {"points_total": f"{sum(v):.6f}".rstrip("0").rstrip(".")} for hf, v in series["hf"].items()},
    }
    return scope(doc, "today", role)


def hf_detail(r, role: Role, hf: str, year: str | None = None) -> dict:
    guard(role.check_hf, hf)
    view = _view(r)
    y = _year(view, year)
    cur = view["years"].get(y, {})
    counters = read_hf_counters(r).get(hf, {})
    doc = {
        "hf": hf,
        "name": hospitals()[hf].name,
        "rhf": hospitals()[hf].rhf,
        "year": int(y),
        "periods": cur.get("hf", {}).get(hf, {}).get("periods", {}),
        "counts": cur.get("counts", {}).get(hf, {}),
        "events": counters,
        "latest_errors": read_errors(r, [hf]).get(hf, []),
    }
    return scope(doc, "hf", role)


def counts(r, role: Role, year: str | None = None) -> dict:
    view = _view(r)
    y = _year(view, year)
    c = view["years"].get(y, {}).get("counts", {})
    return scope({"year": int(y), "unit": "DRG episodes; STG and TFG patient-periods", "counts": c}, "counts", role)


def _buckets(resolution: str, span: int) -> list[datetime]:
    if resolution not in ("hour", "day"):
        raise ApiError(400, "resolution must be hour or day")
    limit = 24 * 14 if resolution == "hour" else 400
    if not 1 <= span <= limit:
        raise ApiError(400, f"span must be between 1 and {limit} {resolution}s")
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    step = timedelta(hours=1) if resolution == "hour" else timedelta(days=1)
    if resolution == "day":
        now = now.replace(hour=0)
    return [now - step * i for i in range(span - 1, -1, -1)]


def timeseries(r, role: Role, resolution: str = "hour", span: int = 48) -> dict:
    """ISF points settled per hour or day (UTC) per HF the role sees, and per RHF it sees."""
    starts = _buckets(resolution, span)
    hours = [s + timedelta(hours=h) for s in starts for h in range(24 if resolution == "day" else 1)]
    p = r.pipeline(transaction=False)
    for h in hours:
        p.hgetall(names.hourly(f"{h:%Y%m%d%H}"))
    got = p.execute()
    per = 24 if resolution == "day" else 1
    hfs = role.hfs()
    series = {hf: [0.0] * len(starts) for hf in hfs}
    for i, data in enumerate(got):
        for k, v in data.items():
            hf = k.decode()
            if hf in series:
                series[hf][i // per] += int(v) / 1_000_000
    rhf = {}
    for rh in RHFS:
        if role.sees_rhf(rh):
            members = [hf for hf in hfs if hospitals()[hf].rhf == rh]
            rhf[rh] = [round(sum(series[hf][i] for hf in members), 6) for i in range(len(starts))]
    fmt = "%Y-%m-%dT%H:00Z" if resolution == "hour" else "%Y-%m-%d"
    return scope(
        {
            "resolution": resolution,
            "buckets": [s.strftime(fmt) for s in starts],
            "unit": "ISF points settled",
            "hf": {hf: [round(v, 6) for v in vals] for hf, vals in series.items() if any(vals)},
            "rhf": rhf,
        },
        "timeseries",
        role,
    )


def _statement(r, year: str | None, name: str) -> dict:
    try:
        kind = kind_of(name)
    except StatementError:
        raise ApiError(400, "kind must be t1, t2, final, difference or provisional") from None
    y = _year(_view(r), year)
    raw = r.hget(names.STATEMENTS_KEY, f"{y}|{kind}")
    if raw is None:
        raise ApiError(404, f"no {kind} statement for {y} yet")
    return json.loads(raw)


def statement(r, role: Role, year: str | None, kind: str, fmt: str = "json"):
    if fmt not in ("json", "csv", "xlsx"):
        raise ApiError(400, "format must be json, csv or xlsx")
    doc = scope(_statement(r, year, kind), "difference" if kind == "difference" else "statement", role)
    if fmt == "csv":
        return "text/csv; charset=utf-8", to_csv(doc).encode("utf-8")
    if fmt == "xlsx":
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", to_xlsx(doc)
    return "application/json", doc


def rbf(r, role: Role, year: str | None = None, kind: str = "final") -> dict:
    """RBF per indicator: each visible RHF's achievement against target and steps, and the money it moves.
    `year` is the statement's activity year Y, so the answer is RBF of budget year Y+1 from NPR data of Y (its
    first tertial when provisional) and NKI of Y-1; `params_year` says whose RBF parameters were used."""
    if kind not in ("provisional", "final"):
        raise ApiError(400, "kind must be provisional or final")
    doc = _statement(r, year, kind)
    rb = doc.get("rbf") or {}
    out = {
        "year": doc["year"],
        "kind": kind,
        **{k: rb.get(k) for k in ("budget_year", "npr_data", "nki_year", "params_year")},
        "targets": rb.get("targets", {}),
        "steps": rb.get("steps", {}),
        "budget_nok": rb.get("budget_nok"),
        "nok_per_point": rb.get("nok_per_point"),
        "rhf": {},
    }
    for rh, line in rb.get("rhf", {}).items():
        out["rhf"][rh] = {
            "nok": line["nok"],
            "normalised_points": line["normalised_points"],
            "indicators": {
                i: {"achievement": rb.get("achievements", {}).get(rh, {}).get(i), **d}
                for i, d in line["indicators"].items()
            },
        }
    return scope(out, "rbf", role)


def errors(r, role: Role) -> dict:
    hfs = role.hfs()
    counters = read_hf_counters(r)
    latest = read_errors(r, hfs)
    out = {
        hf: {"dead_lettered": counters.get(hf, {}).get("dead_lettered", 0), "latest": latest.get(hf, [])}
        for hf in hfs
        if counters.get(hf, {}).get("dead_lettered") or hf in latest
    }
    doc: dict[str, dict] = {"hf": out}
    if role.kind == "national":  # input whose HF could not be read belongs to no region
        doc["unknown_hf"] = {
            "dead_lettered": counters.get("none", {}).get("dead_lettered", 0),
            "latest": read_errors(r, ["none"]).get("none", []),
        }
    return scope(doc, "errors", role)


class Ops:
    """Events per second per service (from the workers' once-a-second counts) and consumer lag."""

    def __init__(self) -> None:
        self.last: tuple[float, dict[str, int]] | None = None
        self.rates: dict[str, float] = {}
        self.lag: dict[str, int | None] = {}

    def sample(self, r) -> None:
        now = time.time()
        cur = read_processed(r)
        if self.last is not None and now > self.last[0]:
            dt = now - self.last[0]
            self.rates = {s: round((cur.get(s, 0) - self.last[1].get(s, 0)) / dt, 1) for s in SERVICES}
        self.last = (now, cur)

    def doc(self, r, role: Role) -> dict:
        beats = {k.decode(): float(v) for k, v in r.hgetall(names.STATS_BEAT).items()}
        aside = read_set_aside(r)
        now = time.time()
        services = {}
        for s in SERVICES:
            mine = {w: t for w, t in beats.items() if w.split(":")[0] == s}
            services[s] = {
                "events_per_s": self.rates.get(s),
                "workers_alive": sum(now - t < 10 for t in mine.values()),
                "consumer_lag": self.lag.get(s),
                "set_aside": aside.get(s, 0),  # items dead-lettered after ingest (ingest's own: `dead_lettered`)
            }
        return scope({"services": services, "sampled_at": self.last[0] if self.last else None}, "ops", role)


INPUTS = {
    "ingest": (names.EPISODES, names.PRESCRIPTIONS),
    "grouper": (names.ACTIVITY,),
    "aggregator": (names.GROUPED,),
    "indicators": (names.GROUPED,),
    "settlement": (names.POINTS, names.INDICATORS),
}


def measure_lag(bootstrap: str) -> dict[str, int | None]:
    """Messages not yet committed per service's consumer group: input end offsets minus committed offsets
    (an OffsetFetch for the group; this consumer never joins it)."""
    from kafka import KafkaConsumer, TopicPartition

    from ..common.config import kafka_client_kwargs

    probe = KafkaConsumer(bootstrap_servers=bootstrap, client_id="isf-monitor-lag", **kafka_client_kwargs())
    try:
        tps = {
            t: [TopicPartition(t, p) for p in (probe.partitions_for_topic(t) or ())]
            for topics in INPUTS.values()
            for t in topics
        }
        ends = probe.end_offsets([tp for group in tps.values() for tp in group])
    finally:
        probe.close()
    out: dict[str, int | None] = {}
    for service, topics in INPUTS.items():
        group = KafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=f"isf-{service}",
            enable_auto_commit=False,
            client_id="isf-monitor-lag",
            **kafka_client_kwargs(),
        )
        try:
            out[service] = sum(max(0, ends[tp] - (group.committed(tp) or 0)) for t in topics for tp in tps[t])
        except Exception:  # a group that has not committed yet, or a broker that cannot say
            out[service] = None
        finally:
            group.close()
    return out
