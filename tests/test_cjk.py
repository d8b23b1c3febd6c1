"""Chinese names on map.png and in report.html, on a machine without system CJK fonts.

The font comes with the install (``noto-cjk-sans-otc``); without it the map warns once
(the documented fallback) instead of drawing boxes silently.
"""

from __future__ import annotations

import base64
import io
import re
import warnings
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import pytest
from fontTools.ttLib import TTFont

from rural_logistics.maps import cjk_font, fonts, wrap_title, write_map_png
from rural_logistics.plan import Plan
from rural_logistics.report.page import render_report
from rural_logistics.report.runs import RunResult
from tests.test_maps import make_plan

NAMES = ["东川村", "红屋村"]


def chinese_plan() -> Plan:
    plan = make_plan()
    stations = plan.stations.assign(name=NAMES)
    townships = plan.townships.assign(name=["城关镇", "枫田镇"])
    depots = plan.depots.assign(name=["古源县配送中心"])
    villages = plan.villages.assign(name=[f"{n}{k}" for k, n in enumerate(NAMES * 3)])
    return replace(plan, stations=stations, townships=townships, depots=depots,
                   villages=villages, region="古源县 (演示)")


def test_the_install_brings_a_cjk_font() -> None:
    font = cjk_font()
    assert font is not None
    family, path, _ = font
    assert family == "Noto Sans CJK SC"
    assert path.is_file()


def test_map_draws_chinese_names_without_missing_glyphs(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        write_map_png(chinese_plan(), tmp_path / "map.png")
    messages = [str(w.message) for w in caught]
    assert not [m for m in messages if "missing from" in m or "CJK" in m], messages
    assert (tmp_path / "map.png").stat().st_size > 10_000


def test_without_a_cjk_font_the_map_warns_once(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "cjk_font", lambda: None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        write_map_png(chinese_plan(), tmp_path / "map.png")
    messages = [str(w.message) for w in caught]
    assert len([m for m in messages if m.startswith("no CJK font")]) == 1, messages
    assert not [m for m in messages if "missing from" in m], messages
    assert "noto-cjk-sans-otc" in next(m for m in messages if m.startswith("no CJK font"))


def test_long_titles_wrap() -> None:
    latin = "A county with a very long name indeed — double11: 40 stations, 29 routes and more"
    lines = wrap_title(latin, 40).splitlines()
    assert len(lines) >= 2 and all(len(line) <= 40 for line in lines)
    chinese = "很长的县名" * 10  # 50 characters = 100 columns
    lines = wrap_title(chinese, 40).splitlines()
    assert [len(line) for line in lines] == [20, 20, 10]
    assert wrap_title("short") == "short"


def test_report_embeds_the_chinese_glyphs_it_shows() -> None:
    run = RunResult(plan=chinese_plan())
    html = render_report([run, run])
    assert "font-src data:" in html
    face = re.search(r"@font-face \{[^}]*unicode-range: ([^;]+);[^}]*base64,([A-Za-z0-9+/=]+)",
                     html)
    assert face is not None
    font = TTFont(io.BytesIO(base64.b64decode(face.group(2))))
    cmap = font.getBestCmap()
    for ch in "".join(NAMES):
        assert ord(ch) in cmap
        assert f"U+{ord(ch):X}" in face.group(1).split(",")
    body = html.split("</style>", 1)[1]
    assert NAMES[0] in body or "东川村0" in body


def test_report_without_chinese_text_embeds_no_font() -> None:
    run = RunResult(plan=make_plan())
    assert "@font-face" not in render_report([run, run])


def test_demo_villages_have_chinese_names(repo_root: Path) -> None:
    villages = gpd.read_file(repo_root / "datasets" / "demo_county" / "villages.csv")
    assert villages["name_zh"].str.fullmatch(r"[\u4e00-\u9fff]{2,3}村").all()
    assert villages["name_zh"].is_unique
