"""Domain exceptions.

Every error a user can cause (bad config, bad data, an impossible request) is a
:class:`RuralLogisticsError`. The CLI turns these into one line per problem and exit
code 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def one_line(text: str) -> str:
    """``text`` with line breaks and other control characters escaped (``\\r``, ``\\x00``),
    so that every problem stays on one line whatever a file name or value contains."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


class RuralLogisticsError(Exception):
    """Base class for user-facing errors.

    Parameters
    ----------
    problems
        One message per problem. Each should name the file, field or id at fault.
    """

    def __init__(self, problems: str | Iterable[str]) -> None:
        self.problems: tuple[str, ...] = (
            (problems,) if isinstance(problems, str) else tuple(problems)
        )
        super().__init__("\n".join(self.problems))


class ConfigError(RuralLogisticsError):
    """The region config is missing, malformed or invalid."""


class InputDataError(RuralLogisticsError):
    """A data file (villages, roads, depots, sites) cannot be used."""


class InfeasibleError(RuralLogisticsError):
    """The request cannot be met (e.g. more stations than candidate sites)."""


class OutputError(RuralLogisticsError):
    """The output folder cannot be written as asked."""


def read_text(
    path: Path,
    *,
    what: str,
    expected: str,
    error: type[RuralLogisticsError],
    encoding: str = "utf-8",
) -> str:
    """The text of a file a user named, or ``error`` in one line naming the file.

    Parameters
    ----------
    path
        The file.
    what
        What it is, for "not found" (``"config file"``).
    expected
        What it should have been when it is a folder (``"a YAML config file"``).
    error
        The error type to raise.
    encoding
        ``"utf-8"``, or ``"utf-8-sig"`` to drop a byte-order mark.
    """
    try:
        return path.read_text(encoding=encoding)
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except IsADirectoryError:
        raise error(f"{path}: is a folder, expected {expected}") from None
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror})") from None
