"""Monitor service: the JSON API (OpenAPI described) and the live dashboard, every answer scoped by token.

Roles come from ISF_MONITOR_TOKENS (`token=role,...`) or ISF_MONITOR_TOKENS_FILE (JSON {token: role});
`Authorization: Bearer <token>` or `?token=` (for download links). Missing or unknown token: 401;
a resource outside the role: 403; unknown HF: 404; a bad parameter: 400.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path

import redis
from aiohttp import web as aioweb

from isf.access import parse_tokens, role_of
from services.common import names
from services.common.config import ConfigError, kafka_bootstrap, make_app, monitor_tokens_text, redis_client

from . import api, coding
from .openapi import SPEC

log = logging.getLogger("isf.monitor")
access = logging.getLogger("isf.access")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CHART_JS = ROOT / "node_modules" / "chart.js" / "dist" / "chart.umd.min.js"


def load_tokens():
    try:
        tokens = parse_tokens(monitor_tokens_text())
    except ValueError as exc:  # the message names the role or the rule, never a token
        raise ConfigError(f"ISF_MONITOR_TOKENS: {exc}") from None
    if not tokens:
        raise ConfigError("no monitor tokens: set ISF_MONITOR_TOKENS or ISF_MONITOR_TOKENS_FILE")
    return tokens


TOKENS = load_tokens()
app = make_app("isf-monitor")
_r = redis_client()
ops = api.Ops()


def _role(request):
    auth = request.headers.get("Authorization", "")
    presented = auth[7:].strip() if auth.lower().startswith("bearer ") else request.query.get("token")
    return role_of(TOKENS, presented)


def _error(web, status: int, message: str):
    return web.json({"error": message, "status": status}, status=status)


def _filename(params, ext: str) -> str:
    return f"isf-{params.get('kind', 'statement')}-{params.get('year', '')}.{ext}"


def endpoint(path: str):
    """An authenticated JSON GET endpoint: the handler gets (role, request, **path params). Every request
    leaves one access log line: the role (never the token), the resource (the path, never the query,
    which may carry the token), the status and the time taken."""

    def wrap(fn):
        async def view(web, request, **params):
            t0 = time.perf_counter()
            role = _role(request)
            response = await answer(web, request, role, params)
            access.info(
                "access role=%s method=%s resource=%s status=%s ms=%.1f",
                role or "-",
                request.method,
                request.path,
                response.status,
                (time.perf_counter() - t0) * 1000,
            )
            return response

        async def answer(web, request, role, params):
            if role is None:
                return web.json(
                    {"error": "missing or unknown token", "status": 401},
                    status=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
            try:
                result = fn(role, request, **params)
            except api.ApiError as exc:
                return _error(web, exc.status, str(exc))
            if isinstance(result, tuple):  # (content type, body)
                ctype, body = result
                if ctype == "application/json":
                    return web.json(body)
                ext = "csv" if ctype.startswith("text/csv") else "xlsx"
                return web.bytes(
                    body,
                    content_type=ctype.split(";")[0],
                    headers={"Content-Disposition": f'attachment; filename="{_filename(params, ext)}"'},
                )
            return web.json(result)

        view.__name__ = fn.__name__
        return app.page(path)(view)

    return wrap


@app.page("/")
async def index(web, request):
    return web.html((HERE / "dashboard.html").read_text(encoding="utf-8"))


@app.page("/static/chart.umd.min.js")
async def chart_js(web, request):
    if not CHART_JS.exists():
        return web.text("// chart.js not installed: run `make` (npm ci) in the project", status=404)
    return web.bytes(CHART_JS.read_bytes(), content_type="application/javascript")


@app.page("/api/openapi.json")
async def openapi(web, request):
    return web.json(SPEC)


class ViewStamps:
    """The stamp of the materialised view (when its totals were read), watched by one timer per monitor and
    handed to every open event stream as it changes: the dashboards fetch their answers on it instead of
    polling, so a page trails the settled totals by the view's age, not by a poll period on top."""

    def __init__(self) -> None:
        self.stamp: str | None = None
        self.changed = asyncio.Event()
        self.closing = False

    def close(self) -> None:
        """End every open stream (the monitor is stopping: a stream left open would hold its shutdown)."""
        self.closing = True
        self.changed.set()

    def see(self, stamp: str | None) -> None:
        if stamp is not None and stamp != self.stamp:
            self.stamp = stamp
            self.changed.set()
            self.changed = asyncio.Event()  # the next change wakes whoever waits from now on

    async def next(self, timeout: float) -> str | None:
        """The stamp after the next change, or None when `timeout` passes without one."""
        try:
            await asyncio.wait_for(self.changed.wait(), timeout)
        except asyncio.TimeoutError:
            return None
        return self.stamp


stamps = ViewStamps()
KEEPALIVE_S = 15.0  # a comment line on an idle stream, so proxies keep it open and a closed page is noticed


def _view_event(stamp: str) -> bytes:
    return f"event: view\ndata: {json.dumps({'generated_at': float(stamp)})}\n\n".encode()


@app.page("/api/events")
async def events(web, request):
    """Server-sent events: `view` with the new view's `generated_at` each time the view changes (once on
    connecting). The event says only that something changed; the page then reads its own, role-scoped answers."""
    role = _role(request)
    access.info(
        "access role=%s method=GET resource=%s status=%s", role or "-", request.path, 401 if role is None else 200
    )
    if role is None:
        return web.json(
            {"error": "missing or unknown token", "status": 401}, status=401, headers={"WWW-Authenticate": "Bearer"}
        )
    resp = aioweb.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
    await resp.prepare(request)
    try:
        await resp.write(b"retry: 2000\n\n" + (_view_event(stamps.stamp) if stamps.stamp else b""))
        while True:
            stamp = await stamps.next(KEEPALIVE_S)
            if stamps.closing:
                break
            await resp.write(_view_event(stamp) if stamp else b": keep-alive\n\n")
    except ConnectionResetError:  # the page went away
        pass
    return resp


@app.on_before_shutdown.connect
async def end_streams(app, **kwargs):
    stamps.close()


@app.timer(0.1)
async def watch_view():
    try:
        raw = _r.hget(names.VIEWS, names.VIEW_STAMP)  # a few bytes, ten times a second, one read per monitor
    except redis.RedisError:
        return
    stamps.see(raw.decode() if raw else None)


@endpoint("/api/me")
def me(role, request):
    return api.me(role)


@endpoint("/api/summary")
def summary(role, request):
    return api.summary(_r, role, request.query.get("year"), request.query.get("period", "tertial"))


@endpoint("/api/hf/{hf}")
def hf_detail(role, request, hf):
    return api.hf_detail(_r, role, hf, request.query.get("year"))


@endpoint("/api/counts")
def counts(role, request):
    return api.counts(_r, role, request.query.get("year"))


@endpoint("/api/timeseries")
def timeseries(role, request):
    span = request.query.get("span", "48")
    if not span.isdigit():
        raise api.ApiError(400, f"span must be a whole number, got {span!r}")
    return api.timeseries(_r, role, request.query.get("resolution", "hour"), int(span))


@endpoint("/api/rbf")
def rbf(role, request):
    return api.rbf(_r, role, request.query.get("year"), request.query.get("kind", "final"))


@endpoint("/api/statements/{year}/{kind}")
def statement(role, request, year, kind):
    return api.statement(_r, role, year, kind, request.query.get("format", "json"))


@endpoint("/api/coding")
def coding_feedback(role, request):
    return coding.coding(_r, role, request.query.get("year"), request.query.get("format", "json"))


@endpoint("/api/errors")
def errors(role, request):
    return api.errors(_r, role)


@endpoint("/api/ops")
def ops_view(role, request):
    return ops.doc(_r, role)


@app.timer(2.0)
async def sample_ops():
    try:
        ops.sample(_r)
    except redis.RedisError as exc:
        log.warning("ops not sampled: %s", type(exc).__name__)


@app.timer(5.0)
async def sample_lag():
    try:
        ops.lag = await asyncio.get_running_loop().run_in_executor(None, api.measure_lag, kafka_bootstrap())
    except Exception as exc:  # lag is information, not a reason to stop serving
        log.warning("consumer lag unavailable: %s", exc)


if __name__ == "__main__":
    app.main()
