"""The monitor on the running system fed by the synthetic feed: every endpoint, three roles, bad parameters,
and the dashboard in a real headless Chromium."""

import json
import os
import shutil
import threading
import time
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest

from isf.feed import Feed, FeedConfig
from isf.registry import hospitals
from services.cli.runner import Stack, produce
from services.monitor.openapi import SPEC
from tests.unit.helpers import episode, raw

pytestmark = pytest.mark.integration
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


LIMITS = {"ISF_MONITOR_STREAMS_PER_TOKEN": "3", "ISF_MONITOR_STREAMS": "8", "ISF_MONITOR_HEADER_TIMEOUT": "2"}


@pytest.fixture(scope="module")
def system():
    feed = list(Feed(FeedConfig(seed=41, invalid=0.02)).events(9000))
    # episodes in an error DRG (an unknown main condition) at one HF, for the coding feedback
    feed[100:100] = [
        (f"ous:coding-{i}", raw(episode(hf="ous", episode_id=f"coding-{i}", main_condition="X999"))) for i in range(3)
    ]
    mp = pytest.MonkeyPatch()
    for k, v in LIMITS.items():
        mp.setenv(k, v)
    with Stack() as stack:
        produce(stack.infra.bootstrap, feed[:2000])
        stop = threading.Event()

        def trickle():  # keeps the numbers moving while the tests look at them
            for i in range(2000, len(feed), 50):
                if stop.is_set():
                    return
                produce(stack.infra.bootstrap, feed[i : i + 50])
                time.sleep(0.5)

        t = threading.Thread(target=trickle, daemon=True)
        t.start()
        base = f"http://127.0.0.1:{stack.monitor_port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:  # until the settlement service has published view and statements
            try:
                if call(base, "/api/statements/2026/final", stack.tokens["national"])[0] == 200:
                    break
            except urllib.error.URLError:  # the monitor is still starting
                pass
            time.sleep(1)
        else:
            pytest.fail("no statement published within 90 s")
        yield stack, base, feed
        stop.set()
        t.join(10)
    mp.undo()


def call(base, path, token=None, headers=None, method="GET", with_headers=False):
    headers = {**({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})}
    req = urllib.request.Request(base + path, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            body = resp.read()
            got = json.loads(body) if resp.headers.get_content_type() == "application/json" else body
            status, answer_headers = resp.status, resp.headers
    except urllib.error.HTTPError as exc:
        body = exc.read()
        got = json.loads(body) if exc.headers.get_content_type() == "application/json" else body
        status, answer_headers = exc.code, exc.headers
    return (status, got, answer_headers) if with_headers else (status, got)


ENDPOINTS = [
    "/api/me",
    "/api/summary",
    "/api/summary?period=year",
    "/api/summary?period=today",
    "/api/counts",
    "/api/timeseries?resolution=hour&span=24",
    "/api/timeseries?resolution=day&span=7",
    "/api/rbf",
    "/api/rbf?kind=provisional",
    "/api/errors",
    "/api/coding",
    "/api/ops",
    "/api/hf/ous",
    "/api/statements/2026/provisional",
    "/api/statements/2026/t2",
    "/api/statements/2026/final",
    "/api/statements/2026/difference",
]


STREAMS = ["/api/events"]  # never ends: read by its own test


def test_every_described_endpoint_answers_and_none_without_a_known_token(system):
    stack, base, _ = system
    described = {p.split("{")[0] for p in SPEC["paths"]}
    own_tests = ("/api/openapi.json", "/api/session")  # the session is read by its own test
    assert all(any(e.startswith(d) for e in ENDPOINTS + STREAMS) for d in described if d not in own_tests)
    assert call(base, "/api/openapi.json")[0] == 200
    for path in ENDPOINTS:
        assert call(base, path, stack.tokens["national"])[0] == 200, path
        status, body = call(base, path)
        assert status == 401 and body["error"] == "missing or unknown token", path
        assert call(base, path, "not-a-token-at-all-0123456789")[0] == 401, path


def pushed_views(base, token, count, timeout=20.0):
    """The `generated_at` of the first `count` view events on the monitor's event stream."""
    got = []
    req = urllib.request.Request(f"{base}/api/events", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        assert resp.headers.get_content_type() == "text/event-stream"
        event = None
        for line in resp:
            line = line.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "view":
                got.append(json.loads(line[6:])["generated_at"])
                if len(got) == count:
                    return got
    return got


def test_the_monitor_pushes_each_new_view_of_the_settled_totals(system):
    stack, base, _ = system
    tok = stack.tokens["rhf:nord"]  # every role is told; what it then reads is scoped as ever
    t0 = time.time()
    stamps = pushed_views(base, tok, 3)
    assert len(stamps) == 3 and stamps == sorted(stamps) and len(set(stamps)) == 3
    assert stamps[-1] > t0 - 1  # new views arrive while the stream is open (the feed trickles, views each second)
    _, s = call(base, "/api/summary?period=year", tok)
    assert s["generated_at"] >= stamps[-1]  # the answer read on the push shows that view or a newer one
    try:
        urllib.request.urlopen(f"{base}/api/events", timeout=5)
        raise AssertionError("an event stream without a token")
    except urllib.error.HTTPError as exc:
        assert exc.code == 401


def test_national_sees_every_region_and_the_numbers_move(system):
    stack, base, _ = system
    tok = stack.tokens["national"]
    _, s1 = call(base, "/api/summary?period=year", tok)
    assert set(s1["rhf"]) == {"sor-ost", "vest", "midt-norge", "nord"} and Decimal(s1["national"]["nok"]) > 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        time.sleep(2)
        _, s2 = call(base, "/api/summary?period=year", tok)
        if s2["national"]["points_total"] != s1["national"]["points_total"]:
            break
    assert s2["national"]["points_total"] != s1["national"]["points_total"]
    _, rbf = call(base, "/api/rbf", tok)
    assert len(rbf["rhf"]) == 4 and all(
        "achievement" in v for line in rbf["rhf"].values() for v in line["indicators"].values()
    )
    _, ops = call(base, "/api/ops", tok)
    assert all(v["workers_alive"] == 1 for v in ops["services"].values())
    _, counts = call(base, "/api/counts", tok)
    assert any("TFG" in v for v in counts["counts"].values())
    _, errors = call(base, "/api/errors", tok)
    assert sum(v["dead_lettered"] for v in errors["hf"].values()) > 0
    assert all(
        v["latest"] and all(isinstance(e, str) for e in v["latest"][0]) for v in errors["hf"].values() if v["latest"]
    )


def test_a_region_sees_its_own_hfs_and_rbf_line_only(system):
    stack, base, _ = system
    tok = stack.tokens["rhf:vest"]
    own = {hf for hf, h in hospitals().items() if h.rhf == "vest"}
    other = next(hf for hf, h in hospitals().items() if h.rhf != "vest")
    _, s = call(base, "/api/summary?period=year", tok)
    assert set(s["hf"]) <= own and set(s["rhf"]) == {"vest"} and "national" not in s
    assert call(base, f"/api/hf/{other}", tok)[0] == 403
    assert call(base, f"/api/hf/{sorted(own)[0]}", tok)[0] == 200
    _, rbf = call(base, "/api/rbf", tok)
    assert set(rbf["rhf"]) == {"vest"}
    _, st = call(base, "/api/statements/2026/final", tok)
    assert set(st["hf"]) <= own and set(st["rhf"]) <= {"vest"} and set(st["rbf"]["rhf"]) == {"vest"}
    _, ts = call(base, "/api/timeseries", tok)
    assert set(ts["hf"]) <= own and set(ts["rhf"]) == {"vest"}
    _, counts = call(base, "/api/counts", tok)
    assert set(counts["counts"]) <= own
    _, errors = call(base, "/api/errors", tok)
    assert set(errors["hf"]) <= own and "unknown_hf" not in errors
    status, csv_body = call(base, "/api/statements/2026/final?format=csv", tok)
    text = csv_body.decode("utf-8")
    assert status == 200 and not any(f";{hf};" in text for hf in hospitals() if hf not in own)


def test_an_hf_sees_itself_only(system):
    stack, base, _ = system
    tok = stack.tokens["hf:ous"]
    _, s = call(base, "/api/summary?period=year", tok)
    assert set(s["hf"]) <= {"ous"} and s["rhf"] == {} and "national" not in s
    assert call(base, "/api/hf/ous", tok)[0] == 200
    assert call(base, "/api/hf/ahus", tok)[0] == 403
    _, rbf = call(base, "/api/rbf", tok)
    assert rbf["rhf"] == {}


@pytest.mark.parametrize(
    "path, status, words",
    [
        ("/api/hf/nowhere", 404, "unknown HF"),
        ("/api/summary?period=week", 400, "period must be one of"),
        ("/api/summary?year=20x6", 400, "year must be four digits"),
        ("/api/summary?year=%D9%A2%D9%A0%D9%A2%D9%A6", 400, "year must be four digits"),  # ٢٠٢٦: not ASCII digits
        ("/api/statements/%D9%A2%D9%A0%D9%A2%D9%A6/final", 400, "year must be four digits"),
        ("/api/timeseries?span=%D9%A4%D9%A8", 400, "span must be a whole number"),
        ("/api/timeseries?resolution=minute", 400, "resolution must be hour or day"),
        ("/api/timeseries?span=100000", 400, "span must be between"),
        ("/api/timeseries?span=abc", 400, "span must be a whole number"),
        ("/api/rbf?kind=difference", 400, "kind must be provisional or final"),
        ("/api/statements/2026/weekly", 400, "kind must be t1, t2, final, difference or provisional"),
        ("/api/statements/2026/final?format=pdf", 400, "format must be json, csv or xlsx"),
        ("/api/statements/1999/final", 404, "no final statement for 1999"),
        ("/api/coding?format=pdf", 400, "format must be json or csv"),
    ],
)
def test_bad_parameters_get_clear_4xx_errors(system, path, status, words):
    stack, base, _ = system
    got, body = call(base, path, stack.tokens["national"])
    assert got == status and words in body["error"]


def test_excel_download_and_no_patient_data_in_any_answer(system):
    from io import BytesIO

    from openpyxl import load_workbook

    stack, base, feed = system
    status, xlsx = call(base, "/api/statements/2026/difference?format=xlsx", stack.tokens["national"])
    assert status == 200 and load_workbook(BytesIO(xlsx)).active.cell(1, 1).value == "level"
    raw_ids = {
        json.loads(raw)["patient_id"]
        for _k, raw in feed[:3000]
        if raw.startswith(b"{") and b'"patient_id"' in raw and isinstance(json.loads(raw).get("patient_id"), str)
    }
    everything = "".join(json.dumps(call(base, p, stack.tokens["national"])[1]) for p in ENDPOINTS)
    assert "patient" not in everything.replace("patient-periods", "").replace("patient_periods", "")
    assert not any(pid in everything for pid in raw_ids)


def until(check, what: str, timeout: float = 30.0):
    """Poll from Python: the page's CSP allows no eval, so playwright's wait_for_function cannot run in it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.2)
    pytest.fail(f"not within {timeout} s: {what}")


def sign_in(page, base, token):
    """Open the dashboard and type the token once, as a person does."""
    page.goto(f"{base}/")
    page.wait_for_selector("#login:not([hidden])", timeout=10000)
    page.fill("#token-input", token)
    page.click("#token-go")


def test_dashboard_in_headless_chromium_signs_in_once_and_never_puts_a_token_in_a_url(system):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    stack, base, _ = system
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    urls: list[str] = []
    refused: list[str] = []  # what the page's CSP blocked
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1600})
            context.on("request", lambda r: urls.append(r.url))
            page = context.new_page()
            page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
            sign_in(page, base, stack.tokens["national"])
            until(lambda: any(c.isdigit() for c in page.text_content("#total-points")), "the totals shown")
            # Chart.js (served locally, not from a CDN) sizes the canvas it draws on
            until(lambda: "box-sizing" in (page.get_attribute("#hf-chart", "style") or ""), "the chart drawn")
            first = page.text_content("#total-points")
            page.select_option("#period", "year")
            until(lambda: page.text_content("#total-points") != first, "the year's totals")
            shown = page.text_content("#total-points")
            until(lambda: page.text_content("#total-points") != shown, "the totals move")  # the feed still runs
            assert page.text_content("#role") == "national"
            assert "direkte" in page.text_content("#live")  # refreshed by the monitor's push, not a poll
            assert len(page.query_selector_all("#rhf-table tbody tr")) == 4
            page.wait_for_selector("#coding-table tbody tr[data-hf='ous']", timeout=30000)
            # a drift signal in the served document is marked in its HF's month (drawn and read in one script run)
            doc = call(base, "/api/coding", stack.tokens["national"])[1]
            month = next(iter(doc["hf"]["ous"]["episodes_by_month"]))
            doc["hf"]["ous"]["drift"] = [
                {"month": month, "measure": "cc_share", "value": 0.5, "expected": 0.2, "band": [0.1, 0.3]}
            ]
            marked = page.evaluate(
                "doc => { drawCoding(doc); return [...document.querySelectorAll('#coding-table td.flag')]"
                ".map(td => [td.closest('tr').dataset.hf, td.dataset.month, td.title]); }",
                doc,
            )
            assert ["ous", month, "cc_share 0.5 (0.1–0.3)"] in marked
            assert {(hf, m) for hf, m, _t in marked} == {
                (hf, d["month"]) for hf, h in doc["hf"].items() for d in h["drift"]
            }
            errors = [r.get_attribute("data-hf") for r in page.query_selector_all("#coding-errors tbody tr")]
            assert errors.count("ous") >= 3
            page.screenshot(path=str(ARTIFACTS / "dashboard-national.png"), full_page=True)
            (cookie,) = context.cookies()
            assert (
                cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["value"] not in stack.tokens.values()
            )
            page.reload()  # signed in: the page opens without the token again
            until(lambda: page.text_content("#role") == "national", "the role after a reload")

            region_context = browser.new_context(viewport={"width": 1400, "height": 1600})
            region_context.on("request", lambda r: urls.append(r.url))
            region = region_context.new_page()
            sign_in(region, base, stack.tokens["rhf:nord"])
            until(lambda: region.get_attribute("#hf-chart", "data-hfs"), "the region's HFs")
            hfs = region.get_attribute("#hf-chart", "data-hfs").split(",")
            assert hfs and all(hospitals()[hf].rhf == "nord" for hf in hfs)
            rows = [r.get_attribute("data-rhf") for r in region.query_selector_all("#rhf-table tbody tr")]
            assert rows == ["nord"]
            body = region.inner_text("main")
            assert "Helse Vest" not in body and "Helse Sør-Øst" not in body
            region.wait_for_selector("#coding-table tbody tr", timeout=30000)
            coded = [r.get_attribute("data-hf") for r in region.query_selector_all("#coding-table tbody tr")]
            assert coded and all(hospitals()[hf].rhf == "nord" for hf in coded)
            assert region.query_selector_all("#coding-errors tbody tr") == []  # source ids are the HF's own

            own = browser.new_page(viewport={"width": 1400, "height": 1600})
            sign_in(own, base, stack.tokens["hf:ous"])
            own.wait_for_selector("#coding-errors tbody tr", timeout=30000)

            def own_errors() -> set:
                rows = own.query_selector_all("#coding-errors tbody tr")
                return {r.query_selector("td").text_content() for r in rows}

            # the page redraws on each pushed view: wait until it shows all three of the HF's own error episodes
            until(lambda: {f"E:ous:coding-{i}" for i in range(3)} <= own_errors(), "the HF's own error episodes")
            assert all(r.get_attribute("data-hf") == "ous" for r in own.query_selector_all("#coding-table tbody tr"))
            region.screenshot(path=str(ARTIFACTS / "dashboard-rhf-nord.png"), full_page=True)

            denied = browser.new_page()
            sign_in(denied, base, "wrong-token-0123456789abcdef")
            until(lambda: denied.text_content("#login-error"), "the sign-in refused", 10)
            assert denied.is_hidden("#main")
        finally:
            browser.close()
    assert any("/api/events" in u for u in urls) and any("/api/summary" in u for u in urls)
    assert not any(t in u for u in urls for t in [*stack.tokens.values(), "wrong-token"]), "a token in a URL"
    assert not any("token=" in u for u in urls)
    assert refused == [], refused


HARDENED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Server": "isf-monitor",
}


def test_every_answer_has_a_csp_nosniff_no_framing_no_referrer_no_store_and_no_version(system):
    stack, base, _ = system
    tok = stack.tokens["national"]
    answers = {
        "page": call(base, "/", with_headers=True),
        "api": call(base, "/api/summary", tok, with_headers=True),
        "csv": call(base, "/api/statements/2026/final?format=csv", tok, with_headers=True),
        "xlsx": call(base, "/api/statements/2026/final?format=xlsx", tok, with_headers=True),
        "401": call(base, "/api/summary", with_headers=True),
        "404": call(base, "/no/such/page", with_headers=True),
    }
    for name, (_status, _body, headers) in answers.items():
        assert {k: headers.get(k) for k in HARDENED} == HARDENED, name
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], name
    assert [a[0] for a in answers.values()] == [200, 200, 200, 200, 401, 404]
    page, csp = answers["page"][1].decode(), answers["page"][2]["Content-Security-Policy"]
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert page.count(f'nonce="{nonce}"') == 2 and "unsafe-inline" not in csp  # the page's script and style
    assert call(base, "/", with_headers=True)[2]["Content-Security-Policy"] != csp  # a nonce per answer


def test_a_token_is_refused_in_a_url_and_a_malformed_authorization_header_is_401(system):
    stack, base, _ = system
    tok = stack.tokens["national"]
    status, body = call(base, f"/api/me?token={tok}")
    assert status == 401 and "URL" in body["error"]
    assert call(base, f"/api/events?token={tok}")[0] == 401
    for header in (f"Basic {tok}", f"Token {tok}", "Bearer", f"Bearer {tok} extra", f"{tok}"):
        status, body = call(
            base, f"/api/me?token={tok}" if header == "Bearer" else "/api/me", headers={"Authorization": header}
        )
        assert status == 401, header
    assert call(base, "/api/me", headers={"Authorization": f"bearer {tok}"})[0] == 200  # the scheme in any case


def test_signing_in_exchanges_the_token_once_for_an_httponly_strict_session_cookie(system):
    stack, base, _ = system
    assert call(base, "/api/session", method="POST")[0] == 401
    assert call(base, "/api/session", "not-a-token-at-all-0123456789", method="POST")[0] == 401
    status, body, headers = call(base, "/api/session", stack.tokens["rhf:vest"], method="POST", with_headers=True)
    assert status == 200 and body["role"] == "rhf:vest"
    cookie = headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    value = cookie.split(";")[0]
    assert stack.tokens["rhf:vest"] not in value
    status, me = call(base, "/api/me", headers={"Cookie": value})
    assert status == 200 and me["role"] == "rhf:vest"  # scoped as the token is
    assert call(base, "/api/hf/ous", headers={"Cookie": value})[0] == 403
    name, _, v = value.partition("=")
    forged = f"{name}={v[:-1]}{'0' if v[-1] != '0' else '1'}"
    assert call(base, "/api/me", headers={"Cookie": forged})[0] == 401
    status, _b, out = call(base, "/api/session", method="DELETE", headers={"Cookie": value}, with_headers=True)
    assert status == 204 and "Max-Age=0" in out["Set-Cookie"]


def test_ops_pages_are_not_on_the_public_port_but_on_the_ops_port(system):
    stack, base, _ = system
    ops_port = stack.web_ports["monitor"][0]
    for path in ("/metrics", "/healthz", "/ready"):
        assert call(base, path, stack.tokens["national"])[0] == 404, path
    for path in ("/healthz", "/metrics"):
        with urllib.request.urlopen(f"http://127.0.0.1:{ops_port}{path}", timeout=10) as resp:
            assert resp.status == 200, path
    assert call(f"http://127.0.0.1:{ops_port}", "/api/me", stack.tokens["national"])[0] == 404


def open_stream(base, token):
    """An event stream's socket and its status line (the socket stays open until closed)."""
    import socket

    sock = socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])), timeout=10)
    sock.sendall(f"GET /api/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
    return sock, sock.recv(4096).split(b"\r\n", 1)[0].decode()


def test_event_streams_are_limited_per_token_and_in_all(system):
    stack, base, _ = system
    limit, total = int(LIMITS["ISF_MONITOR_STREAMS_PER_TOKEN"]), int(LIMITS["ISF_MONITOR_STREAMS"])
    tokens = [stack.tokens[f"hf:{hf}"] for hf in sorted(hospitals())]
    socks = []
    try:
        got = []
        for _ in range(limit + 1):
            sock, line = open_stream(base, tokens[0])
            socks.append(sock)
            got.append(line.split(" ")[1])
        assert got == ["200"] * limit + ["429"]  # per token
        opened, last = limit, ""
        for tok in tokens[1:]:
            sock, last = open_stream(base, tok)
            socks.append(sock)
            if "429" in last:
                break
            opened += 1
        assert "429" in last and opened <= total  # in all (other tests' streams may still count)
    finally:
        for sock in socks:
            sock.close()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # closed streams are given back as the monitor next writes to them
        sock, line = open_stream(base, tokens[0])
        sock.close()
        if " 200 " in line:
            break
        time.sleep(0.5)
    assert " 200 " in line


def test_a_request_whose_headers_never_finish_is_cut_off_after_the_header_timeout(system):
    import socket

    _stack, base, _ = system
    timeout = float(LIMITS["ISF_MONITOR_HEADER_TIMEOUT"])
    sock = socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])), timeout=2 * timeout + 5)
    t0 = time.monotonic()
    closed = False
    try:
        sock.sendall(b"GET /api/me HTTP/1.1\r\nHost: x\r\n")
        for i in range(int(4 * timeout / 0.25)):  # a header line every 0.25 s, never the blank line that ends them
            sock.sendall(f"X-Slow-{i}: 1\r\n".encode())
            time.sleep(0.25)
    except (BrokenPipeError, ConnectionResetError):
        closed = True
    if not closed:
        closed = sock.recv(100) == b""
    elapsed = time.monotonic() - t0
    sock.close()
    assert closed and elapsed < timeout + 2.5, elapsed
    idle = socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])), timeout=timeout + 5)
    assert idle.recv(100) == b""  # a connection that never sends a request is closed too
    idle.close()


def test_a_path_with_cr_lf_or_nul_cannot_forge_an_access_log_line(system):
    stack, base, _ = system
    forged = "access role=national method=GET resource=/api/statements/forged status=200"
    for sep in ("%0A", "%0D%0A", "%00", "%0D"):
        assert call(base, f"/api/me{sep}{forged.replace(' ', '%20')}")[0] in (401, 404)
    log = stack.logdir / "monitor-0.log"
    deadline = time.monotonic() + 10
    while log.read_text().count("resource=/api/statements/forged") < 4 and time.monotonic() < deadline:
        time.sleep(0.2)
    lines = [line for line in log.read_text().splitlines() if "resource=/api/statements/forged" in line]
    assert len(lines) == 4 and all("isf.access: access role=- method=GET resource=/api/me\\" in x for x in lines)
    assert "\x00" not in log.read_text()


def test_the_monitor_stops_promptly_with_a_dashboard_following_it(system):
    """An open event stream never ends by itself: the monitor ends every stream as it stops (without that it
    had not stopped 70 s after SIGTERM). Runs last: it stops this module's monitor."""
    import signal

    stack, base, _ = system
    lines: list[bytes] = []

    def follow():
        try:
            req = urllib.request.Request(
                f"{base}/api/events", headers={"Authorization": f"Bearer {stack.tokens['national']}"}
            )
            with urllib.request.urlopen(req, timeout=60) as resp:
                lines.extend(resp)
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            lines.append(repr(exc).encode())
        lines.append(b"END")

    t = threading.Thread(target=follow, daemon=True)
    t.start()
    deadline = time.monotonic() + 10
    while not lines and time.monotonic() < deadline:
        time.sleep(0.1)
    monitor = stack.workers["monitor"][0]
    t0 = time.monotonic()
    monitor.send_signal(signal.SIGTERM)
    assert monitor.wait(30) == 0 and time.monotonic() - t0 < 20
    t.join(5)
    assert lines[0].startswith(b"retry:") and lines[-1] == b"END"
