"""What every placement model returns, and helpers shared by the models."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from rural_logistics.errors import InfeasibleError

Status = Literal["optimal", "feasible", "heuristic"]

#: Relative tolerance under which objective and bound count as equal.
OPTIMALITY_TOL = 1e-9


@dataclass(frozen=True)
class PlacementResult:
    """Open stations and the assignment of clients to them.

    Attributes
    ----------
    open_sites
        Sorted indices (columns of the cost matrix) of the open sites.
    assignment
        For each client, the index of the site serving it (for a split, multi-source
        assignment: the site serving its largest share); ``-1`` for a client that is not
        served (zero weight and no reachable site, or outside every radius in
        ``max_coverage``).
    objective
        Objective value of the model (minimised; ``max_coverage`` reports the covered weight
        and maximises it).
    bound
        Best proven bound on the objective (lower bound when minimising, upper when
        maximising).
    status
        ``optimal`` (bound meets objective), ``feasible`` (time limit; the gap is in
        ``gap``), or ``heuristic`` (no exact solve was run).
    solve_seconds
        Wall time spent.
    model
        Which model produced it (``p_median``, ``max_coverage``, ``set_cover``,
        ``fixed_charge``).
    sense
        ``min`` or ``max``.
    uncovered
        Clients with weight that no open site reaches within the radius (coverage models).
    flows
        Multi-source ``fixed_charge`` only: ``(client, site, share)`` rows with share in
        (0, 1] (empty otherwise: every client is served wholly by ``assignment``).
    """

    open_sites: np.ndarray
    assignment: np.ndarray
    objective: float
    bound: float
    status: Status
    solve_seconds: float
    model: str = "p_median"
    sense: Literal["min", "max"] = "min"
    uncovered: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    flows: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))

    @property
    def gap(self) -> float:
        """Relative gap ``|objective - bound| / |objective|`` (0 when proven optimal)."""
        if self.status == "optimal":
            return 0.0
        if not np.isfinite(self.bound):
            return float("inf")
        if self.objective == 0:
            return 0.0 if self.bound == 0 else float("inf")
        diff = self.bound - self.objective if self.sense == "max" else (self.objective - self.bound)
        return max(0.0, diff / abs(self.objective))

    def is_optimal(self) -> bool:
        """Whether optimality is proven."""
        return self.status == "optimal"


@dataclass(frozen=True)
class SiteRules:
    """Side constraints on which sites may, must or can together be open.

    All indices are columns of the cost matrix.

    Attributes
    ----------
    locked
        Sites that must be open (existing stations).
    excluded
        Sites that must stay closed.
    max_stations
        At most this many open sites (``None``: no limit).
    opening_cost
        ``(n_sites,)`` cost of opening each site (``None``: zero), used by
        ``max_opening_cost``.
    max_opening_cost
        Budget on the summed opening cost of the open sites (``None``: no budget).
    groups
        ``(n_sites,)`` group label of each site (e.g. township; ``-1`` = no group), used by
        ``min_per_group``.
    min_per_group
        At least this many open sites in every group that occurs in ``groups``.
    group_names
        Names of the group labels, for error messages.
    """

    locked: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    excluded: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    max_stations: int | None = None
    opening_cost: np.ndarray | None = None
    max_opening_cost: float | None = None
    groups: np.ndarray | None = None
    min_per_group: int = 0
    group_names: tuple[str, ...] = ()

    def is_plain(self) -> bool:
        """Whether only ``locked`` / ``excluded`` are set (the fast p-median path)."""
        return (
            self.max_stations is None
            and self.max_opening_cost is None
            and (self.min_per_group <= 0 or self.groups is None)
        )

    def group_name(self, g: int) -> str:
        """Printable name of group label ``g``."""
        return self.group_names[g] if 0 <= g < len(self.group_names) else str(g)


def ids_text(items: np.ndarray | list[int] | list[str], *, limit: int = 12) -> str:
    """``a, b, c and 4 more``."""
    names = [str(i) for i in items]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def clients_text(items: np.ndarray, names: Sequence[str] | None) -> str:
    """``client(s) 3, 7`` by index, or ``village(s) V4, V8`` when names are given."""
    if names is None:
        return f"client(s) {ids_text(items)}"
    return f"village(s) {ids_text([names[int(i)] for i in items])}"


def check_rules(rules: SiteRules, n_sites: int, *, stations: int | None = None) -> None:
    """Reject side constraints that contradict each other before any solving.

    Raises
    ------
    InfeasibleError
        Naming the setting at fault.
    """
    locked = set(rules.locked.tolist())
    excluded = set(rules.excluded.tolist())
    both = sorted(locked & excluded)
    if both:
        raise InfeasibleError(
            f"placement.excluded_sites: site(s) {ids_text(both)} are also existing stations "
            "kept open by placement.keep_existing"
        )
    usable = n_sites - len(excluded)
    if stations is not None:
        if stations > usable:
            raise InfeasibleError(
                f"placement.stations = {stations} is more than the {usable} candidate sites"
                + (" left after placement.excluded_sites" if excluded else "")
            )
        if len(locked) > stations:
            raise InfeasibleError(
                f"{len(locked)} existing stations are kept open, more than "
                f"placement.stations = {stations}"
            )
    if rules.max_stations is not None and len(locked) > rules.max_stations:
        raise InfeasibleError(
            f"placement.max_stations = {rules.max_stations} is below the {len(locked)} "
            "existing stations kept open"
        )
    if rules.max_stations is not None and stations is not None and stations > rules.max_stations:
        raise InfeasibleError(
            f"placement.max_stations = {rules.max_stations} is below placement.stations = "
            f"{stations}"
        )
    if rules.max_opening_cost is not None:
        cost = rules.opening_cost if rules.opening_cost is not None else np.zeros(n_sites)
        locked_cost = float(cost[rules.locked].sum()) if len(locked) else 0.0
        if locked_cost > rules.max_opening_cost + 1e-9:
            raise InfeasibleError(
                f"placement.max_opening_cost = {rules.max_opening_cost:g} is below the "
                f"{locked_cost:g} it costs to keep the {len(locked)} existing stations open"
            )
    if rules.groups is not None and rules.min_per_group > 0:
        labels = np.asarray(rules.groups)
        allowed = np.ones(n_sites, dtype=bool)
        allowed[rules.excluded] = False
        short = []
        for g in np.unique(labels[labels >= 0]):
            have = int((allowed & (labels == g)).sum())
            if have < rules.min_per_group:
                short.append(f"{rules.group_name(int(g))} ({have} usable site(s))")
        if short:
            raise InfeasibleError(
                f"placement.min_per_township = {rules.min_per_group}: too few candidate sites "
                f"in township(s) {ids_text(short)}"
            )
        n_groups = len(np.unique(labels[labels >= 0]))
        need = n_groups * rules.min_per_group
        cap = stations if stations is not None else rules.max_stations
        if cap is not None and need > cap:
            what = "placement.stations" if stations is not None else "placement.max_stations"
            raise InfeasibleError(
                f"placement.min_per_township = {rules.min_per_group} needs {need} stations in "
                f"{n_groups} townships, more than {what} = {cap}"
            )


def nearest_open(cost: np.ndarray, open_sites: np.ndarray) -> np.ndarray:
    """Cheapest open site of every client (ties: lowest index; ``-1`` if none is finite)."""
    open_sites = np.sort(np.asarray(open_sites, dtype=np.int64))
    if len(open_sites) == 0:
        return np.full(cost.shape[0], -1, dtype=np.int64)
    sub = cost[:, open_sites]
    pick = open_sites[np.argmin(sub, axis=1)]
    pick[~np.isfinite(sub).any(axis=1)] = -1
    return pick
