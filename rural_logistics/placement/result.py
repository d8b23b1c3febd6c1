"""What every placement model returns, and helpers shared by the models."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from rural_logistics.errors import InfeasibleError
from rural_logistics.text import ids_text

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
    formulation
        ``full``, or how a reduced formulation was solved and what it proved
        (:mod:`rural_logistics.placement.reduced`).
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
    formulation: str = "full"

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


def clients_text(items: np.ndarray, names: Sequence[str] | None) -> str:
    """``client(s) 3, 7`` by index, or ``village(s) V4, V8`` when names are given."""
    if names is None:
        return f"client(s) {ids_text(items)}"
    return f"village(s) {ids_text([names[int(i)] for i in items])}"


def rule_problems(
    rules: SiteRules, n_sites: int, *, stations: int | None = None
) -> list[str]:
    """Side constraints that contradict each other, one line each (empty: none).

    The messages name the config keys the rules come from (``placement.…``).

    Parameters
    ----------
    rules
        The side constraints.
    n_sites
        Candidate sites.
    stations
        Stations to open (K of ``p_median`` / ``max_coverage``; ``None``: the model
        chooses how many).
    """
    problems: list[str] = []
    locked = set(rules.locked.tolist())
    excluded = set(rules.excluded.tolist())
    both = sorted(locked & excluded)
    if both:
        problems.append(
            f"placement.exclude_sites: site(s) {ids_text(both)} are also existing stations "
            "kept open by placement.keep_existing"
        )
    usable = n_sites - len(excluded)
    if stations is not None:
        if stations > usable:
            problems.append(
                f"placement.stations = {stations} is more than the {usable} usable candidate "
                "sites"
                + (" (the others are in placement.exclude_sites or not reachable from the "
                   "depot)" if excluded else "")
                + "; lower it or add candidate sites"
            )
        if len(locked) > stations:
            problems.append(
                f"placement.keep_existing keeps {len(locked)} existing stations open, more "
                f"than placement.stations = {stations}"
            )
    if rules.max_stations is not None and len(locked) > rules.max_stations:
        problems.append(
            f"placement.max_stations = {rules.max_stations} is below the {len(locked)} "
            "existing stations kept open (placement.keep_existing)"
        )
    if rules.max_stations is not None and stations is not None and stations > rules.max_stations:
        problems.append(
            f"placement.max_stations = {rules.max_stations} is below placement.stations = "
            f"{stations}"
        )
    if rules.max_opening_cost is not None:
        cost = rules.opening_cost if rules.opening_cost is not None else np.zeros(n_sites)
        locked_cost = float(cost[rules.locked].sum()) if len(locked) else 0.0
        if locked_cost > rules.max_opening_cost + 1e-9:
            problems.append(
                f"placement.max_opening_cost = {rules.max_opening_cost:g} is below the "
                f"{locked_cost:g} it costs to keep the {len(locked)} existing stations open"
            )
    if rules.groups is not None and rules.min_per_group > 0:
        problems.extend(_group_problems(rules, n_sites, stations=stations))
    return problems


def _group_problems(rules: SiteRules, n_sites: int, *, stations: int | None) -> list[str]:
    """``min_stations_per_township`` against the usable sites and the station count."""
    assert rules.groups is not None
    labels = np.asarray(rules.groups)
    allowed = np.ones(n_sites, dtype=bool)
    allowed[rules.excluded] = False
    short = []
    for g in np.unique(labels[labels >= 0]):
        have = int((allowed & (labels == g)).sum())
        if have < rules.min_per_group:
            short.append(f"{rules.group_name(int(g))} ({have} usable site(s))")
    key = "placement.min_stations_per_township"
    if short:
        return [
            f"{key} = {rules.min_per_group}: too few usable candidate sites in township(s) "
            f"{ids_text(short)}"
        ]
    n_groups = len(np.unique(labels[labels >= 0]))
    need = n_groups * rules.min_per_group
    cap = stations if stations is not None else rules.max_stations
    if cap is not None and need > cap:
        what = "placement.stations" if stations is not None else "placement.max_stations"
        return [
            f"{key} = {rules.min_per_group} needs {need} stations in {n_groups} townships, "
            f"more than {what} = {cap}"
        ]
    return []


def check_rules(rules: SiteRules, n_sites: int, *, stations: int | None = None) -> None:
    """Reject side constraints that contradict each other before any solving.

    The guard of the array-level models for library callers; a ``solve`` has run the
    same :func:`rule_problems` in its check pass
    (:func:`rural_logistics.validation.check_request`) before any solver.

    Raises
    ------
    InfeasibleError
        Naming the setting at fault, one line per problem.
    """
    problems = rule_problems(rules, n_sites, stations=stations)
    if problems:
        raise InfeasibleError(problems)


def station_loads(
    placement: PlacementResult, parcels_per_day: np.ndarray, produce_kg_per_day: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Parcels and produce per open station (in ``open_sites`` order), each village
    counted at the station of its ``assignment`` (unassigned villages: nowhere).

    Returns
    -------
    parcels, produce
        ``(len(open_sites),)`` arrays.
    """
    open_sites = np.asarray(placement.open_sites, dtype=np.int64)
    position = np.full(int(open_sites.max(initial=-1)) + 1, -1, dtype=np.int64)
    position[open_sites] = np.arange(len(open_sites))
    served = np.flatnonzero(np.asarray(placement.assignment) >= 0)
    cols = position[np.asarray(placement.assignment, dtype=np.int64)[served]]
    parcels = np.bincount(
        cols, weights=np.asarray(parcels_per_day, dtype=float)[served],
        minlength=len(open_sites),
    )
    produce = np.bincount(
        cols, weights=np.asarray(produce_kg_per_day, dtype=float)[served],
        minlength=len(open_sites),
    )
    return parcels, produce


def nearest_open(cost: np.ndarray, open_sites: np.ndarray) -> np.ndarray:
    """Cheapest open site of every client (ties: lowest index; ``-1`` if none is finite)."""
    open_sites = np.sort(np.asarray(open_sites, dtype=np.int64))
    if len(open_sites) == 0:
        return np.full(cost.shape[0], -1, dtype=np.int64)
    sub = cost[:, open_sites]
    pick = open_sites[np.argmin(sub, axis=1)]
    pick[~np.isfinite(sub).any(axis=1)] = -1
    return pick
