"""Monitor service: the JSON API (OpenAPI described) and the live dashboard on a public port of their own
(ISF_MONITOR_PORT), every answer scoped by token; /metrics, /healthz and /ready stay on the worker's ops port
(ISF_WEB_PORT), which is not the public route.

Roles come from ISF_MONITOR_TOKENS (`token=role,...`) or ISF_MONITOR_TOKENS_FILE (JSON {token: role}). A caller
sends `Authorization: Bearer <token>`, or signs in once (POST /api/session with that header) for an HttpOnly,
SameSite=Strict session cookie that the dashboard, its event stream and download links then use (see
`session`); a token in a URL is refused. No usable credentials: 401; a resource outside the role: 403;
unknown HF: 404; a bad parameter: 400. Every answer carries the headers of `harden`; event streams are
limited per token and in all, and a request's headers must arrive within ISF_MONITOR_HEADER_TIMEOUT.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from pathlib import Path

import redis
from aiohttp import web

from isf.access import Role, parse_tokens
from services.common import bootstrap, names
from services.common.config import ConfigError, monitor_tokens_text

from . import api, coding, session
from .openapi import SPEC

log = logging.getLogger("isf.monitor")
access = logging.getLogger("isf.access")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CHART_JS = ROOT / "node_modules" / "chart.js" / "dist" / "chart.umd.min.js"
DASHBOARD = (HERE / "dashboard.html").read_text(encoding="utf-8")
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
PAGE_CSP = (
    "default-src 'none'; script-src 'self' 'nonce-{n}'; style-src 'self' 'nonce-{n}'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def load_tokens():
    try:
        tokens = parse_tokens(monitor_tokens_text())
    except ValueError as exc:  # the message names the role or the rule, never a token
        raise ConfigError(f"ISF_MONITOR_TOKENS: {exc}") from None
    if not tokens:
        raise ConfigError("no monitor tokens: set ISF_MONITOR_TOKENS or ISF_MONITOR_TOKENS_FILE")
    return tokens


TOKENS = load_tokens()
svc = bootstrap.service("monitor", worker_stats=False)
SETTINGS, app = svc.settings, svc.app
_r = svc.sync_redis()
ops = api.Ops()
public = web.Application()
streams: dict[str, int] = {}  # open event streams per token (by `session.token_key`)


def _json(doc, status: int = 200, headers: dict | None = None) -> web.Response:
    return web.json_response(doc, status=status, headers=headers, dumps=lambda d: json.dumps(d, default=str))


def _error(status: int, message: str, headers: dict | None = None) -> web.Response:
    return _json({"error": message, "status": status}, status=status, headers=headers)


def _caller(request: web.Request) -> tuple[str, Role]:
    """(token, role) of the request, noted on it for the access log; `session.Unauthorized` otherwise."""
    token, role = session.caller(
        TOKENS,
        request.headers.get("Authorization"),
        request.cookies.get(session.COOKIE),
        "token" in request.query,
        time.time(),
    )
    request["role"] = role
    return token, role


def _unauthorized(exc: session.Unauthorized) -> web.Response:
    return _error(401, str(exc), headers={"WWW-Authenticate": "Bearer"})


@web.middleware
async def access_log(request: web.Request, handler):
    """One line per request: the role (never the token), method, path (never the query), status and time.
    The log formats escape control characters, so no path can start a line of its own."""
    t0 = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        access.info(
            "access role=%s method=%s resource=%s status=%s ms=%.1f",
            request.get("role") or "-",
            request.method,
            request.path,
            status,
            (time.perf_counter() - t0) * 1000,
        )


async def harden(request: web.Request, response: web.StreamResponse) -> None:
    """On every answer: a CSP (the page's own script and style by nonce), no sniffing, no framing, no referrer,
    nothing stored by a cache (the page and every answer are per caller), no version in Server."""
    h = response.headers
    h["Server"] = "isf-monitor"
    h.setdefault("Content-Security-Policy", API_CSP)
    h["X-Content-Type-Options"] = "nosniff"
    h["X-Frame-Options"] = "DENY"
    h["Referrer-Policy"] = "no-referrer"
    h.setdefault("Cache-Control", "no-store")


public.middlewares.append(access_log)
public.on_response_prepare.append(harden)


def _filename(params, ext: str) -> str:
    return f"isf-{params.get('kind', 'statement')}-{params.get('year', '')}.{ext}"


def endpoint(path: str):
    """An authenticated JSON GET endpoint: the handler gets (role, request, **path params)."""

    def wrap(fn):
        async def view(request: web.Request) -> web.Response:
            try:
                _token, role = _caller(request)
            except session.Unauthorized as exc:
                return _unauthorized(exc)
            params = dict(request.match_info)
            try:
                result = fn(role, request, **params)
            except api.ApiError as exc:
                return _error(exc.status, str(exc))
            if isinstance(result, tuple):  # (content type, body)
                ctype, body = result
                if ctype == "application/json":
                    return _json(body)
                ext = "csv" if ctype.startswith("text/csv") else "xlsx"
                return web.Response(
                    body=body,
                    content_type=ctype.split(";")[0],
                    charset="utf-8" if ext == "csv" else None,
                    headers={"Content-Disposition": f'attachment; filename="{_filename(params, ext)}"'},
                )
            return _json(result)

        view.__name__ = fn.__name__
        public.router.add_get(path, view)
        return fn

    return wrap


async def index(request: web.Request) -> web.Response:
    nonce = secrets.token_urlsafe(16)
    return web.Response(
        text=DASHBOARD.replace("{{nonce}}", nonce),
        content_type="text/html",
        headers={"Content-Security-Policy": PAGE_CSP.format(n=nonce)},
    )


async def chart_js(request: web.Request) -> web.Response:
    if not CHART_JS.exists():
        return web.Response(text="// chart.js not installed: run `make` (npm ci) in the project", status=404)
    return web.Response(body=CHART_JS.read_bytes(), content_type="application/javascript")


async def openapi(request: web.Request) -> web.Response:
    return _json(SPEC)


async def sign_in(request: web.Request) -> web.Response:
    """Exchange the token in the Authorization header for a session cookie (the token is sent once)."""
    if request.headers.get("Authorization") is None:
        return _unauthorized(session.Unauthorized("sign in with Authorization: Bearer <token>"))
    try:
        token, role = _caller(request)
    except session.Unauthorized as exc:
        return _unauthorized(exc)
    response = _json({"role": str(role), "expires_in": session.SESSION_S})
    secure = request.secure or request.headers.get("X-Forwarded-Proto") == "https"
    response.set_cookie(
        session.COOKIE,
        session.issue(token, time.time()),
        max_age=session.SESSION_S,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=secure,
    )
    return response


async def sign_out(request: web.Request) -> web.Response:
    response = web.Response(status=204)
    response.del_cookie(session.COOKIE, path="/")
    return response


public.router.add_get("/", index)
public.router.add_get("/static/chart.umd.min.js", chart_js)
public.router.add_get("/api/openapi.json", openapi)
public.router.add_post("/api/session", sign_in)
public.router.add_delete("/api/session", sign_out)


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


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: `view` with the new view's `generated_at` each time the view changes (once on
    connecting). The event says only that something changed; the page then reads its own, role-scoped answers.
    At most ISF_MONITOR_STREAMS_PER_TOKEN open per token and ISF_MONITOR_STREAMS in all: past that, 429."""
    try:
        token, _role = _caller(request)
    except session.Unauthorized as exc:
        return _unauthorized(exc)
    key = session.token_key(token)
    if streams.get(key, 0) >= SETTINGS.isf_monitor_streams_per_token:
        return _error(429, "too many open event streams for this token", headers={"Retry-After": "10"})
    if sum(streams.values()) >= SETTINGS.isf_monitor_streams:
        return _error(429, "too many open event streams", headers={"Retry-After": "10"})
    streams[key] = streams.get(key, 0) + 1
    try:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "X-Accel-Buffering": "no"})
        await resp.prepare(request)
        await resp.write(b"retry: 2000\n\n" + (_view_event(stamps.stamp) if stamps.stamp else b""))
        while True:
            stamp = await stamps.next(KEEPALIVE_S)
            if stamps.closing:
                break
            await resp.write(_view_event(stamp) if stamp else b": keep-alive\n\n")
    except ConnectionResetError:  # the page went away
        pass
    finally:
        streams[key] -= 1
        if not streams[key]:
            del streams[key]
    return resp


public.router.add_get("/api/events", events)
runner: web.AppRunner | None = None


@app.task
async def serve_public() -> None:
    """The public site; an idle connection, or one whose request headers do not arrive, is closed after
    ISF_MONITOR_HEADER_TIMEOUT (aiohttp's keep-alive timer runs from the connection's start and from each answer,
    and closes a connection still waiting for a whole request)."""
    global runner
    runner = web.AppRunner(
        public, access_log=None, keepalive_timeout=SETTINGS.isf_monitor_header_timeout, shutdown_timeout=5.0
    )
    await runner.setup()
    await web.TCPSite(runner, SETTINGS.isf_web_bind, SETTINGS.isf_monitor_port).start()


@app.on_before_shutdown.connect  # type: ignore[arg-type]  # mode's SignalHandlerT type does not take this receiver
async def end_streams(app, **kwargs):
    stamps.close()
    if runner is not None:
        await runner.cleanup()


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
    if not api.DIGITS.fullmatch(span) or len(span) > 6:
        raise api.ApiError(400, "span must be a whole number (0-9)")
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
        ops.lag = await asyncio.get_running_loop().run_in_executor(None, api.measure_lag, SETTINGS.kafka_bootstrap)
    except Exception as exc:  # lag is information, not a reason to stop serving
        log.warning("consumer lag unavailable: %s", exc)


if __name__ == "__main__":
    app.main()
