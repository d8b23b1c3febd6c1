"""The time (and optional iteration) budget of a solver stage: one object passed down.

A run makes one :class:`Budget` from ``solver.time_limit_s`` and hands it to its solver
stages in turn; each stage takes a :meth:`~Budget.share` of what is left for its parts
and stops when its budget has :meth:`~Budget.expired`. A share never reaches past its
parent's deadline, so a run's solver time stays within the one limit however the stages
split it (as PyVRP's ``stop`` criteria replace a bare number of seconds).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

#: Least time a share gets (seconds): a solver called with less does no useful work, but
#: must still return its start plan.
MIN_SHARE_S = 0.05


@dataclass(frozen=True)
class Budget:
    """Wall-clock time until a deadline, and optionally a cap on iterations.

    Attributes
    ----------
    deadline
        ``time.perf_counter()`` value at which the budget runs out.
    seconds
        The time it was given when made.
    iteration_limit
        Deterministic stop rule of the search inside (engine iterations), or ``None``;
        the deadline still holds.
    """

    deadline: float
    seconds: float
    iteration_limit: int | None = None

    @classmethod
    def of(cls, seconds: float, *, iteration_limit: int | None = None) -> Budget:
        """A budget of ``seconds`` from now."""
        if not seconds >= 0 or math.isnan(seconds):
            raise ValueError(f"a budget needs seconds >= 0 (got {seconds!r})")
        return cls(time.perf_counter() + seconds, float(seconds), iteration_limit)

    def left(self) -> float:
        """Seconds until the deadline (0 once it has passed)."""
        return max(0.0, self.deadline - time.perf_counter())

    def elapsed(self) -> float:
        """Seconds since the budget was made."""
        return self.seconds - (self.deadline - time.perf_counter())

    def expired(self) -> bool:
        """Whether the deadline has passed."""
        return time.perf_counter() >= self.deadline

    def share(self, fraction: float, *, min_s: float = MIN_SHARE_S) -> Budget:
        """A part of what is left: ``fraction`` × :meth:`left` seconds from now, at least
        ``min_s`` but never past this budget's deadline (unless it has passed: then
        ``min_s``). The iteration cap is passed on."""
        if not 0 <= fraction <= 1:
            raise ValueError(f"a share is a fraction from 0 to 1 (got {fraction!r})")
        left = self.left()
        seconds = max(min(min_s, left) if left > 0 else min_s, fraction * left)
        return replace(self, deadline=time.perf_counter() + seconds, seconds=seconds)

    def at_most(self, seconds: float) -> Budget:
        """This budget, ending after ``seconds`` if that comes first."""
        now = time.perf_counter()
        if now + seconds >= self.deadline:
            return self
        return replace(self, deadline=now + seconds, seconds=seconds)

    def with_iterations(self, iteration_limit: int | None) -> Budget:
        """The same deadline with another iteration cap."""
        return replace(self, iteration_limit=iteration_limit)
