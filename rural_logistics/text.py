"""Small wording helpers shared by messages, maps and reports (ground floor: no imports
from the package)."""

from __future__ import annotations

from collections.abc import Iterable

#: How many ids a message lists before "and N more".
ID_LIST_LIMIT = 12


def ids_text(items: Iterable[object], *, limit: int = ID_LIST_LIMIT) -> str:
    """``a, b, c and 4 more``: the first ``limit`` items, then how many are left out."""
    names = [str(i) for i in items]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def plural(n: int, word: str) -> str:
    """``1 station``, ``3 stations``, ``1,200 parcels``."""
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"
