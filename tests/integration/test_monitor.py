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
from services.monitor.openapi import SPEC
from services.runner import Stack, produce
from tests.unit.helpers import episode, raw

pytestmark = pytest.mark.integration
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def system():
    feed = list(Feed(FeedConfig(seed=41, invalid=0.02)).events(9000))
    # episodes in an error DRG (an unknown main condition) at one HF, for the coding feedback
    feed[100:100] = [
        (f"ous:coding-{i}", raw(episode(hf="ous", episode_id=f"coding-{i}", main_condition="X999"))) for i in range(3)
    ]
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


def call(base, path, token=None):
    req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            body = resp.read()
            return resp.status, (json.loads(body) if resp.headers.get_content_type() == "application/json" else body)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


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
    "/api/statements/2026/final",
    "/api/statements/2026/difference",
]


STREAMS = ["/api/events"]  # never ends: read by its own test


def test_every_described_endpoint_answers_and_none_without_a_known_token(system):
    stack, base, _ = system
    described = {p.split("{")[0] for p in SPEC["paths"]}
    assert all(any(e.startswith(d) for e in ENDPOINTS + STREAMS) for d in described if d != "/api/openapi.json")
    assert call(base, "/api/openapi.json")[0] == 200
    for path in ENDPOINTS:
        assert call(base, path, stack.tokens["national"])[0] == 200, path
        status, body = call(base, path)
        assert status == 401 and body["error"] == "missing or unknown token", path
        assert call(base, path, "not-a-token-at-all-0123456789")[0] == 401, path


def pushed_views(base, token, count, timeout=20.0):
    """The `generated_at` of the first `count` view events on the monitor's event stream."""
    got = []
    with urllib.request.urlopen(f"{base}/api/events?token={token}", timeout=timeout) as resp:
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
        ("/api/timeseries?resolution=minute", 400, "resolution must be hour or day"),
        ("/api/timeseries?span=100000", 400, "span must be between"),
        ("/api/timeseries?span=abc", 400, "span must be a whole number"),
        ("/api/rbf?kind=difference", 400, "kind must be provisional or final"),
        ("/api/statements/2026/weekly", 400, "kind must be provisional, final or difference"),
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


def test_dashboard_in_headless_chromium(system):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    stack, base, _ = system
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.goto(f"{base}/?token={stack.tokens['national']}")
            page.wait_for_function("document.getElementById('total-points').textContent.match(/\\d/)", timeout=30000)
            page.wait_for_function("typeof Chart !== 'undefined'", timeout=10000)  # served locally, not from a CDN
            first = page.text_content("#total-points")
            page.select_option("#period", "year")
            page.wait_for_function(
                f"document.getElementById('total-points').textContent !== {json.dumps(first)}", timeout=30000
            )
            shown = page.text_content("#total-points")
            page.wait_for_function(
                f"document.getElementById('total-points').textContent !== {json.dumps(shown)}", timeout=30000
            )  # live: the feed is still running
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

            region = browser.new_page(viewport={"width": 1400, "height": 1600})
            region.goto(f"{base}/?token={stack.tokens['rhf:nord']}")
            region.wait_for_function("document.getElementById('hf-chart').dataset.hfs", timeout=30000)
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
            own.goto(f"{base}/?token={stack.tokens['hf:ous']}")
            own.wait_for_selector("#coding-errors tbody tr", timeout=30000)
            sources = [r.inner_text().split("\t")[0] for r in own.query_selector_all("#coding-errors tbody tr")]
            assert {f"E:ous:coding-{i}" for i in range(3)} <= set(sources)
            assert all(r.get_attribute("data-hf") == "ous" for r in own.query_selector_all("#coding-table tbody tr"))
            region.screenshot(path=str(ARTIFACTS / "dashboard-rhf-nord.png"), full_page=True)

            denied = browser.new_page()
            denied.goto(f"{base}/?token=wrong-token-0123456789abcdef")
            denied.wait_for_selector("#login:not([hidden])", timeout=10000)
        finally:
            browser.close()


def test_the_monitor_stops_promptly_with_a_dashboard_following_it(system):
    """An open event stream never ends by itself: the monitor ends every stream as it stops (without that it
    had not stopped 70 s after SIGTERM). Runs last: it stops this module's monitor."""
    import signal

    stack, base, _ = system
    lines: list[bytes] = []

    def follow():
        try:
            with urllib.request.urlopen(f"{base}/api/events?token={stack.tokens['national']}", timeout=60) as resp:
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
