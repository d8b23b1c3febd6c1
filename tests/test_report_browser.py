"""The report as a person sees it: opened in headless Chromium with the network cut off.

How the browser is driven, and why this way
-------------------------------------------
Chromium is started with ``--remote-debugging-pipe``: the DevTools protocol then runs over
two pipes (file descriptors 3 and 4, JSON messages ending in a NUL byte) instead of a
WebSocket on a TCP port. That needs no extra package, no free port and no loopback network,
and the messages are the same ones Puppeteer and Playwright use. Over it the test

* records every ``Network.requestWillBeSent`` (each request the page makes, including ones
  that would fail), so "no request left the file" is checked directly, not inferred from
  logs; the only URL allowed is the report's own ``file://`` URL (and inline ``data:``);
* records ``Runtime.consoleAPICalled`` (errors and warnings), ``Runtime.exceptionThrown``
  (uncaught script errors) and ``Log.entryAdded`` (browser-side errors such as a failed
  load or a Content-Security-Policy violation);
* measures the maps, tables and chart in the laid-out page (present, non-zero size, not
  hidden) and reads the KPI cells as rendered text;
* takes a full-page screenshot (PNG) and checks that the map colours are really painted;
* prints the page to PDF (print stylesheet) and checks it has pages.

Network access is cut off three times over: ``--host-resolver-rules`` makes every host
name unresolvable, ``--proxy-server`` sends any request to a closed local port, and the
background services that phone home are disabled by flag. A negative-control test opens a
page that does reach for the network and logs an error, and checks the harness notices.

The tests are skipped, with the reason, only when no Chromium binary is installed
(``.ci/run`` installs Debian's ``chromium`` so they run in CI). Screenshots are written to
pytest's temporary folder, or to ``$RL_REPORT_SCREENSHOTS`` when set, for a person to look at.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty, Queue
from typing import Any

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.image import imread
from test_report import assert_kpis_match, make_run, parse_shown

from rural_logistics.maps import access_band_colors
from rural_logistics.report import KPIS, compare_runs

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM = next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium binary on PATH (install Debian's `chromium`; .ci/run does)",
)
TIMEOUT_S = 60.0
VIEWPORT = (1440, 900)


class Browser:
    """A headless Chromium driven over the DevTools protocol on a pipe."""

    def __init__(self, profile: Path) -> None:
        assert CHROMIUM is not None
        # Our ends; the child gets the other ends as fds 3 (commands in) and 4 (replies out).
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # Move the child's ends above 4 so placing them on 3 and 4 cannot clobber each other.
        child_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
        child_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
        os.close(to_child_r)
        os.close(from_child_w)

        def place_fds() -> None:  # runs in the child before exec
            os.dup2(child_r, 3)
            os.dup2(child_w, 4)

        args = [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-default-apps",
            "--disable-domain-reliability",
            "--metrics-recording-only",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--mute-audio",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=127.0.0.1:9",
            "--proxy-bypass-list=<-loopback>",
            f"--user-data-dir={profile}",
            f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        self.proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, pass_fds=(3, 4), preexec_fn=place_fds,
        )
        os.close(child_r)
        os.close(child_w)
        self._next_id = 0
        self._replies: dict[int, Queue[dict[str, Any]]] = {}
        self.events: Queue[dict[str, Any]] = Queue()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._stderr: list[bytes] = []
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._stderr.append(line)

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self._from_child, 1 << 16)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "id" in msg:
                    with self._lock:
                        queue = self._replies.get(msg["id"])
                    if queue is not None:
                        queue.put(msg)
                else:
                    self.events.put(msg)

    def send(self, method: str, params: dict[str, Any] | None = None, *,
             session: str | None = None) -> dict[str, Any]:
        """Send one command and wait for its result (raises on a protocol error)."""
        with self._lock:
            self._next_id += 1
            msg_id = self._next_id
            queue: Queue[dict[str, Any]] = Queue()
            self._replies[msg_id] = queue
        msg: dict[str, Any] = {"id": msg_id, "method": method, "params": params or {}}
        if session is not None:
            msg["sessionId"] = session
        os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        try:
            reply = queue.get(timeout=TIMEOUT_S)
        except Empty:
            raise AssertionError(
                f"Chromium did not answer {method} within {TIMEOUT_S:g} s; stderr: "
                + b"".join(self._stderr[-20:]).decode(errors="replace")
            ) from None
        if "error" in reply:
            raise AssertionError(f"{method}: {reply['error']}")
        return dict(reply.get("result", {}))

    def close(self) -> None:
        with contextlib.suppress(AssertionError, OSError):
            self.send("Browser.close")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_child, self._from_child):
            with contextlib.suppress(OSError):
                os.close(fd)


@dataclass
class PageVisit:
    """What happened while a page was open."""

    url: str
    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    checks: dict[str, Any] = field(default_factory=dict)
    screenshot: Path | None = None
    print_screenshot: Path | None = None
    pdf_pages: int = 0

    def outside_requests(self) -> list[str]:
        return [u for u in self.requests if u != self.url and not u.startswith("data:")]


_CHECK_JS = """
(() => {
  const box = (el) => {
    if (!el) return null;
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return {w: r.width, h: r.height, visible: s.display !== 'none' &&
            s.visibility !== 'hidden' && parseFloat(s.opacity) > 0};
  };
  const all = (sel) => Array.from(document.querySelectorAll(sel)).map(box);
  const kpi = {};
  document.querySelectorAll('#kpi-table td[data-key]').forEach((td) => {
    kpi[td.dataset.key + '|' + td.dataset.run] = {
      value: td.dataset.value, text: td.querySelector('.v').textContent};
  });
  const layer = (name) => Array.from(document.querySelectorAll('svg.rl-map-svg .rl-' + name))
      .map((el) => getComputedStyle(el).display);
  return {
    title: document.title,
    maps: all('figure.map svg.rl-map-svg'),
    kpiTable: box(document.querySelector('#kpi-table')),
    townshipTable: box(document.querySelector('#township-table')),
    settingsTable: box(document.querySelector('#settings-table')),
    worstTables: all('table.worst-table'),
    chart: box(document.querySelector('#distribution svg')),
    legend: box(document.querySelector('#legend')),
    villageTitles: document.querySelectorAll('svg.rl-map-svg .rl-hit-v title').length,
    routeLayers: layer('routes'),
    kpi: kpi,
    pageHeight: document.documentElement.scrollHeight,
  };
})()
"""


def _evaluate(browser: Browser, session: str, expression: str) -> Any:
    result = browser.send("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                          session=session)
    if "exceptionDetails" in result:
        raise AssertionError(f"page script failed: {result['exceptionDetails']}")
    return result["result"].get("value")


def open_page(browser: Browser, page: Path) -> tuple[str, PageVisit]:
    """Open ``page`` in ``browser`` at the laptop viewport and wait for its load event (and
    half a second more); return the DevTools session and the requests, console messages
    and errors of the load."""
    url = page.resolve().as_uri()
    seen = PageVisit(url=url)
    targets = browser.send("Target.getTargets")["targetInfos"]
    target = next(t for t in targets if t["type"] == "page")
    session = browser.send("Target.attachToTarget",
                           {"targetId": target["targetId"], "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        browser.send(f"{domain}.enable", session=session)
    browser.send("Emulation.setDeviceMetricsOverride",
                 {"width": VIEWPORT[0], "height": VIEWPORT[1], "deviceScaleFactor": 1,
                  "mobile": False}, session=session)
    browser.send("Page.navigate", {"url": url}, session=session)
    deadline = time.monotonic() + TIMEOUT_S
    loaded = False
    settle_until = None
    while True:
        now = time.monotonic()
        if now > deadline:
            raise AssertionError(f"{page}: no load event within {TIMEOUT_S:g} s")
        if settle_until is not None and now > settle_until:
            break
        try:
            event = browser.events.get(timeout=0.1)
        except Empty:
            continue
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            seen.requests.append(params["request"]["url"])
        elif method == "Runtime.consoleAPICalled" and params["type"] in (
                "error", "warning", "assert"):
            text = " ".join(str(a.get("value", a.get("description", "")))
                            for a in params.get("args", []))
            seen.console.append(f"console.{params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            described = details.get("exception", {}).get("description", "")
            seen.errors.append(f"uncaught: {details.get('text', '')} {described}"[:500])
        elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
            entry = params["entry"]
            seen.errors.append(f"{entry['source']}: {entry['text']} {entry.get('url', '')}")
        elif method == "Page.loadEventFired" and not loaded:
            loaded = True
            settle_until = time.monotonic() + 0.5  # late console messages and requests
    return session, seen


def visit(page: Path, shots: Path, *, name: str, report: bool = True) -> PageVisit:
    """Open ``page`` in a fresh headless Chromium, inspect it, screenshot it, close it.

    With ``report=False`` only the requests and errors of the page load are recorded.
    """
    browser = Browser(shots / f"profile-{name}")
    try:
        session, seen = open_page(browser, page)
        if not report:
            return seen
        seen.checks = _evaluate(browser, session, _CHECK_JS)
        metrics = browser.send("Page.getLayoutMetrics", session=session)
        size = metrics["cssContentSize"]
        shot = browser.send("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"],
                     "scale": 1},
        }, session=session)
        seen.screenshot = shots / f"{name}.png"
        seen.screenshot.write_bytes(base64.b64decode(shot["data"]))
        # The toggle hides a layer (a person clicking "Routes").
        seen.checks["routesAfterToggle"] = _evaluate(browser, session, """
            (() => { const box = document.querySelector('input[data-layer="routes"]');
              box.click();
              const shown = Array.from(document.querySelectorAll('svg.rl-map-svg .rl-routes'))
                .map((el) => getComputedStyle(el).display);
              box.click(); return shown; })()""")
        browser.send("Emulation.setEmulatedMedia", {"media": "print"}, session=session)
        seen.checks["printControls"] = _evaluate(
            browser, session, "getComputedStyle(document.querySelector('.controls')).display")
        seen.checks["printMaps"] = _evaluate(browser, session, _CHECK_JS)["maps"]
        browser.send("Emulation.setEmulatedMedia", {"media": ""}, session=session)
        pdf = browser.send("Page.printToPDF", {"landscape": True, "printBackground": True,
                                               "preferCSSPageSize": True}, session=session)
        data = base64.b64decode(pdf["data"])
        (shots / f"{name}.pdf").write_bytes(data)
        seen.pdf_pages = data.count(b"/Type /Page") - data.count(b"/Type /Pages")
        if seen.pdf_pages <= 0:
            seen.pdf_pages = data.count(b"/Type/Page") - data.count(b"/Type/Pages")
    finally:
        browser.close()
    return seen


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = os.environ.get("RL_REPORT_SCREENSHOTS")
    if target:
        path = Path(target)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory, shots: Path) -> Iterator[
        tuple[PageVisit, list[dict[str, Any]]]]:
    """The comparison report of two grid runs, opened once for the tests below."""
    root = tmp_path_factory.mktemp("browser-runs")
    a = make_run(root / "one-station", stations=[4], config_dir=root / "cfg1")
    b = make_run(root / "three-stations", stations=[3, 4, 5], scenario="double11",
                 config_dir=root / "cfg3")
    report = compare_runs([a, b], out=root / "compare.html")
    summaries = [json.loads((r / "summary.json").read_text()) for r in (a, b)]
    yield visit(report, shots, name="grid-compare"), summaries


def test_no_request_leaves_the_file(compared: tuple[PageVisit, list[dict[str, Any]]]) -> None:
    seen, _ = compared
    assert seen.requests[:1] == [seen.url]  # the harness saw the page's own load
    assert seen.outside_requests() == []


def test_no_console_errors(compared: tuple[PageVisit, list[dict[str, Any]]]) -> None:
    seen, _ = compared
    assert seen.console == []
    assert seen.errors == []


def test_maps_tables_and_chart_are_visible(
    compared: tuple[PageVisit, list[dict[str, Any]]],
) -> None:
    seen, _ = compared
    c = seen.checks
    assert c["title"] == "Grid — scenario comparison"
    assert len(c["maps"]) == 2
    for box in [*c["maps"], c["kpiTable"], c["townshipTable"], c["settingsTable"],
                c["chart"], c["legend"], *c["worstTables"]]:
        assert box is not None and box["visible"] and box["w"] > 100 and box["h"] > 40, box
    # Side by side on a laptop-sized window: two maps of equal size on one row.
    m0, m1 = c["maps"]
    assert m0["w"] == pytest.approx(m1["w"], abs=1) and m0["w"] < VIEWPORT[0] / 2
    assert len(c["worstTables"]) == 2
    assert c["villageTitles"] == 2 * 9
    assert c["routeLayers"] and all(d != "none" for d in c["routeLayers"])
    assert c["routesAfterToggle"] and all(d == "none" for d in c["routesAfterToggle"])


def test_rendered_kpis_equal_the_summaries(
    compared: tuple[PageVisit, list[dict[str, Any]]],
) -> None:
    seen, summaries = compared
    cells = {(k.split("|")[0], int(k.split("|")[1])): v for k, v in seen.checks["kpi"].items()}
    assert_kpis_match(cells, summaries)
    shown = parse_shown(cells[("stations_open", 1)]["text"])
    assert shown == (3.0, 0)
    assert {k.key for k in KPIS} == {key for key, _ in cells}


def test_screenshot_shows_the_maps(compared: tuple[PageVisit, list[dict[str, Any]]]) -> None:
    seen, _ = compared
    assert seen.screenshot is not None
    image = imread(seen.screenshot)[..., :3]
    assert image.shape[1] == VIEWPORT[0] and image.shape[0] > VIEWPORT[1]
    # Village dots of the access bands that occur (0–10 and 20–30 min at 30 km/h for 0, 1
    # and 2 km) are painted: pixels of those exact colours exist in the screenshot.
    colors = access_band_colors()
    for band in (0, 2):
        rgb = np.array(to_rgb(colors[band]))
        close = np.all(np.abs(image - rgb) < 6 / 255, axis=-1)
        assert close.sum() > 20, f"band {band} colour {colors[band]} not visible"


def test_report_prints(compared: tuple[PageVisit, list[dict[str, Any]]]) -> None:
    seen, _ = compared
    assert seen.checks["printControls"] == "none"  # layer switches are not printed
    assert all(box["visible"] and box["w"] > 100 for box in seen.checks["printMaps"])
    assert 1 <= seen.pdf_pages <= 12


def test_harness_detects_requests_and_errors(tmp_path: Path, shots: Path) -> None:
    """Negative control: a page that reaches out and logs errors is caught."""
    page = tmp_path / "leaky.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>leaky</title>"
        '<link rel="stylesheet" href="https://cdn.example.com/x.css"></head><body>'
        '<img src="http://tiles.example.org/1/2/3.png" alt="tile">'
        "<script>console.error('boom'); undefinedFunction();</script></body></html>",
        encoding="utf-8",
    )
    seen = visit(page, shots, name="negative-control", report=False)
    outside = seen.outside_requests()
    assert "https://cdn.example.com/x.css" in outside
    assert "http://tiles.example.org/1/2/3.png" in outside
    assert any("boom" in line for line in seen.console)
    assert any("undefinedFunction" in line for line in seen.errors)
