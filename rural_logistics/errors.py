"""Domain exceptions.

Every error a user can cause (bad config, bad data, an impossible request) is a
:class:`RuralLogisticsError`. The CLI turns these into one line per problem and exit
code 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Iterable


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
