"""Fonts of maps and reports: Noto Sans CJK for Chinese, Japanese and Korean names.

The install brings Noto Sans CJK (the ``noto-cjk-sans-otc`` package, SIL Open Font
License); without it an installed CJK font is used (``fc-list :lang=zh``); with none, one
warning says that CJK names are drawn as boxes. Latin text stays in DejaVu Sans.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import textwrap
import unicodedata
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from matplotlib import font_manager, rc_context

#: Width of a map title line, in Latin characters (a CJK character counts two).
TITLE_WIDTH = 64
#: CJK fonts looked for when the font package is missing, in order of preference.
_CJK_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
    "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "PingFang SC",
    "Hiragino Sans GB", "Noto Sans CJK JP", "Noto Sans CJK TC",
)
LATIN_FAMILY = "DejaVu Sans"


def _packaged_cjk_font() -> Path | None:
    """The Noto Sans CJK collection of the ``noto-cjk-sans-otc`` package, if installed."""
    try:
        import noto_cjk_sans_otc
    except ImportError:
        return None
    path = Path(str(noto_cjk_sans_otc.FONT_PATH))
    return path if path.is_file() else None


@functools.cache
def cjk_font() -> tuple[str, Path, int] | None:
    """The CJK font maps and reports use: ``(family, file, face index)``, or ``None``.

    Noto Sans CJK SC from the ``noto-cjk-sans-otc`` package (a dependency, so every
    install has it); if that package is missing, the first installed font of a list of
    common CJK families; ``None`` when there is none (CJK names then show as boxes, and
    :func:`font_context` warns once).
    """
    packaged = _packaged_cjk_font()
    if packaged is not None:
        font_manager.fontManager.addfont(str(packaged))
    by_name = {e.name: e for e in font_manager.fontManager.ttflist}
    for family in _CJK_FAMILIES:
        entry = by_name.get(family)
        if entry is not None:
            return family, Path(entry.fname), int(getattr(entry, "index", 0) or 0)
    return None


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds a Chinese, Japanese or Korean character."""
    return any(unicodedata.east_asian_width(ch) in ("W", "F") and ch.isalpha() for ch in text)


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def wrap_title(text: str, width: int = TITLE_WIDTH) -> str:
    """``text`` broken into lines of at most ``width`` columns (a CJK character is two
    columns; CJK text without spaces breaks between characters)."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        if _display_width(paragraph) <= width:
            lines.append(paragraph)
            continue
        if " " in paragraph.strip():
            lines.extend(textwrap.wrap(paragraph, width=max(width - _display_width(paragraph)
                                                            + len(paragraph), 10)))
            continue
        line = ""
        for ch in paragraph:
            if _display_width(line + ch) > width:
                lines.append(line)
                line = ""
            line += ch
        lines.append(line)
    return "\n".join(lines)


@contextlib.contextmanager
def font_context(texts: Iterable[str] = (), *, rc: dict[str, object] | None = None
                 ) -> Iterator[None]:
    """matplotlib settings for drawing ``texts``: DejaVu Sans with the CJK font as the
    fallback for characters it lacks (plus ``rc``, any other settings).

    Without a CJK font and with CJK characters in ``texts``, warns once
    (``UserWarning``) instead of matplotlib's warning per missing glyph.
    """
    font = cjk_font()
    families = [LATIN_FAMILY] + ([font[0]] if font else [])
    # The CJK font has one weight: bold text falls back to it without a log line each time.
    log = logging.getLogger("matplotlib.font_manager")
    level = log.level
    log.setLevel(logging.ERROR)
    settings: dict[str, Any] = {**(rc or {}), "font.family": families}
    try:
        with rc_context(settings), warnings.catch_warnings():  # type: ignore[arg-type]
            if font is None:
                cjk = sum(has_cjk(str(t)) for t in texts)
                if cjk:
                    warnings.warn(
                        f"no CJK font: {cjk} name(s) in Chinese, Japanese or Korean are drawn "
                        "as boxes; install the noto-cjk-sans-otc package (pip) or a CJK font "
                        "such as Debian's fonts-noto-cjk",
                        UserWarning, stacklevel=3,
                    )
                warnings.filterwarnings("ignore", message="Glyph .* missing from")
            yield
    finally:
        log.setLevel(level)
