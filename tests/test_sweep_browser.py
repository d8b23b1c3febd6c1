"""The sweep report as a person uses it: headless Chromium, network cut off, the slider
moved by a script as a hand would move it (see ``test_report_browser`` for the harness).

The sweep is the grid's (``test_sweep``): 1 to 4 stations at 1.2 km with a 90 % target,
so the page opens on 3 stations (the target) and every map shows as many station markers
as its number of stations.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from conftest import write_grid_region
from matplotlib.image import imread
from test_report_browser import CHROMIUM, VIEWPORT, Browser, PageVisit, _evaluate, open_page

from rural_logistics.sweep import SweepSpec, run_sweep, write_sweep
from rural_logistics.validation import load_checked_config

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium binary on PATH (install Debian's `chromium`; .ci/run does)",
)

_STATE_JS = """
(() => {
  const shown = Array.from(document.querySelectorAll('figure.sweep-map'))
    .filter((f) => getComputedStyle(f).display !== 'none');
  const fig = shown[0];
  const box = (el) => { if (!el) return null; const r = el.getBoundingClientRect();
    return {w: r.width, h: r.height}; };
  return {
    shownMaps: shown.length,
    k: fig ? fig.dataset.k : null,
    caption: fig ? fig.querySelector('.k-count').textContent : null,
    stationMarkers: fig ? fig.querySelectorAll('rect.rl-hit-s').length : null,
    villageMarkers: fig ? fig.querySelectorAll('circle.rl-hit-v').length : null,
    mapBox: fig ? box(fig.querySelector('svg.rl-map-svg')) : null,
    chosenText: document.getElementById('k-chosen').textContent,
    klinesOn: Array.from(document.querySelectorAll('.rl-kline'))
      .filter((g) => getComputedStyle(g).display !== 'none').map((g) => g.dataset.k),
    rowOn: Array.from(document.querySelectorAll('#sweep-table tr.on')).map((r) => r.dataset.k),
    curves: box(document.querySelector('#sweep-curves svg')),
    sliderDisplay: getComputedStyle(document.getElementById('k-slider')).display,
  };
})()
"""


def _move_slider(index: int) -> str:
    return f"""(() => {{ const s = document.getElementById('k-slider'); s.value = '{index}';
      s.dispatchEvent(new Event('input', {{bubbles: true}})); return s.value; }})()"""


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PageVisit, dict[str, Any]]]:
    root = tmp_path_factory.mktemp("sweep-browser")
    grid = write_grid_region(root / "grid", extra_config={
        "placement": {"stations": 2, "radius_km": 1.2}, "solver": {"time_limit_s": 60}})
    result = run_sweep(load_checked_config(grid),
                       SweepSpec(stations=(1, 2, 3, 4), target_coverage=0.9))
    out = root / "sweep"
    write_sweep(result, out)
    report = out / "report.html"
    states: dict[str, Any] = {}
    browser = Browser(root / "profile")
    try:
        session, seen = open_page(browser, report)
        states["opened"] = _evaluate(browser, session, _STATE_JS)
        for index in (0, 1, 3):
            _evaluate(browser, session, _move_slider(index))
            states[f"slider{index}"] = _evaluate(browser, session, _STATE_JS)
        shot = browser.send("Page.captureScreenshot", {"format": "png"}, session=session)
        seen.screenshot = root / "sweep.png"
        seen.screenshot.write_bytes(base64.b64decode(shot["data"]))
        _evaluate(browser, session, _move_slider(2))
        browser.send("Emulation.setEmulatedMedia", {"media": "print"}, session=session)
        states["print"] = _evaluate(browser, session, _STATE_JS)
        browser.send("Emulation.setEmulatedMedia", {"media": ""}, session=session)
        pdf = browser.send("Page.printToPDF", {"landscape": True, "printBackground": True,
                                               "preferCSSPageSize": True}, session=session)
        data = base64.b64decode(pdf["data"])
        seen.pdf_pages = data.count(b"/Type /Page") - data.count(b"/Type /Pages")
    finally:
        browser.close()
    yield seen, states


def test_no_request_and_no_error(page: tuple[PageVisit, dict[str, Any]]) -> None:
    seen, _ = page
    assert seen.requests[:1] == [seen.url]
    assert seen.outside_requests() == []
    assert seen.console == [] and seen.errors == []


def test_page_opens_on_the_target(page: tuple[PageVisit, dict[str, Any]]) -> None:
    _, states = page
    s = states["opened"]
    assert s["shownMaps"] == 1 and s["k"] == "3" and s["caption"] == "3"
    assert s["stationMarkers"] == 3 and s["villageMarkers"] == 9
    assert s["chosenText"] == "3 stations"
    assert s["klinesOn"] == ["3", "3"]  # the marker on both curves
    assert s["rowOn"] == ["3"]
    assert s["curves"]["w"] > 400 and s["curves"]["h"] > 100
    assert s["mapBox"]["w"] > 200 and s["mapBox"]["h"] > 100


@pytest.mark.parametrize(("index", "stations"), [(0, 1), (1, 2), (3, 4)])
def test_slider_switches_the_map(page: tuple[PageVisit, dict[str, Any]], index: int,
                                 stations: int) -> None:
    _, states = page
    s = states[f"slider{index}"]
    assert s["shownMaps"] == 1
    assert s["k"] == s["caption"] == str(stations)
    assert s["stationMarkers"] == stations  # the map really is that plan
    assert s["chosenText"] == f"{stations} stations"
    assert s["klinesOn"] == [str(stations)] * 2 and s["rowOn"] == [str(stations)]
    assert s["mapBox"]["w"] > 200


def test_printing_keeps_the_curves_and_the_chosen_number(
    page: tuple[PageVisit, dict[str, Any]],
) -> None:
    seen, states = page
    s = states["print"]
    assert s["sliderDisplay"] == "none"
    assert s["chosenText"] == "3 stations" and s["shownMaps"] == 1 and s["k"] == "3"
    assert s["curves"]["w"] > 400 and s["klinesOn"] == ["3", "3"]
    assert 1 <= seen.pdf_pages <= 6


def test_screenshot_shows_a_map(page: tuple[PageVisit, dict[str, Any]]) -> None:
    seen, _ = page
    assert seen.screenshot is not None
    image = imread(seen.screenshot)[..., :3]
    assert image.shape[1] == VIEWPORT[0]
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 50  # drawn, not blank
