"""From the ``placement`` settings to one model call (arrays and ids only).

The pipeline hands over the village × site travel matrices, the village weights and the
site attributes; this module builds the side constraints (:class:`SiteRules`), the cost
and coverage matrices each model needs, and calls the chosen model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from rural_logistics.config import PlacementSettings
from rural_logistics.placement.models import (
    solve_fixed_charge,
    solve_max_coverage,
    solve_set_cover,
)
from rural_logistics.placement.pmedian import solve_p_median
from rural_logistics.placement.reduced import DEFAULT_K, solve_reduced_p_median
from rural_logistics.placement.result import PlacementResult, SiteRules, nearest_open
from rural_logistics.solvers.budget import Budget
from rural_logistics.text import ids_text

#: From this many village × site pairs on, the p-median is solved on the reduced
#: formulation (k nearest sites per village) unless ``placement.nearest_sites`` is set.
REDUCE_FROM_PAIRS = 1_000_000

#: Progress text per method.
METHOD_TEXT = {
    "p_median": "p-median",
    "max_coverage": "maximal coverage",
    "set_cover": "set cover",
    "fixed_charge": "capacitated fixed charge",
    "location_routing": "fixed charge, the start of location-routing",
}


def site_rule_problems(
    settings: PlacementSettings,
    *,
    site_ids: Sequence[str],
    site_existing: np.ndarray,
    site_ok: np.ndarray,
) -> list[str]:
    """What in ``exclude_sites`` cannot be applied: unknown ids, or existing stations
    that ``keep_existing`` keeps open (one line each; empty when none)."""
    index = {str(s): k for k, s in enumerate(site_ids)}
    unknown = [s for s in settings.exclude_sites if s not in index]
    if unknown:
        return [f"placement.exclude_sites: unknown candidate site id(s) {ids_text(unknown)}"]
    if not settings.keep_existing:
        return []
    locked = np.asarray(site_existing, dtype=bool) & np.asarray(site_ok, dtype=bool)
    both = [s for s in settings.exclude_sites if locked[index[s]]]
    if both:
        return [
            f"placement.exclude_sites: site(s) {ids_text(both)} are existing stations "
            "kept open by placement.keep_existing"
        ]
    return []


def site_rules(
    settings: PlacementSettings,
    *,
    site_ids: Sequence[str],
    site_township: Sequence[str],
    site_existing: np.ndarray,
    site_ok: np.ndarray,
) -> SiteRules:
    """Side constraints from the settings.

    Sites not reachable from the depot are excluded. Existing stations are locked open
    when ``keep_existing``; every site costs ``opening_cost_per_day``. The settings must
    have passed :func:`site_rule_problems` (the check pass of ``validate`` and ``solve``).
    """
    ids = [str(s) for s in site_ids]
    index = {s: k for k, s in enumerate(ids)}
    assert not site_rule_problems(
        settings, site_ids=ids, site_existing=site_existing, site_ok=site_ok
    ), "placement.exclude_sites was not checked"
    excluded = np.zeros(len(ids), dtype=bool)
    excluded[[index[s] for s in settings.exclude_sites]] = True
    locked = np.zeros(len(ids), dtype=bool)
    if settings.keep_existing:
        locked = np.asarray(site_existing, dtype=bool) & np.asarray(site_ok, dtype=bool)
    excluded |= ~np.asarray(site_ok, dtype=bool)
    names = sorted({str(t) for t in site_township if str(t) not in ("", "nan", "None")})
    label = {n: k for k, n in enumerate(names)}
    groups = np.array([label.get(str(t), -1) for t in site_township], dtype=np.int64)
    return SiteRules(
        locked=np.flatnonzero(locked),
        excluded=np.flatnonzero(excluded),
        max_stations=settings.max_stations,
        opening_cost=np.full(len(ids), settings.opening_cost_per_day),
        max_opening_cost=settings.max_opening_cost,
        groups=groups if settings.min_stations_per_township > 0 else None,
        min_per_group=settings.min_stations_per_township,
        group_names=tuple(names),
    )


def access_problems(
    settings: PlacementSettings,
    *,
    distance_km: np.ndarray,
    weights: np.ndarray,
    rules: SiteRules,
    village_ids: Sequence[str],
) -> list[str]:
    """Villages with weight and no usable site within ``max_access_km`` (one line)."""
    if settings.max_access_km is None:
        return []
    _, allowed = _usable(settings, distance_km=distance_km, rules=rules)
    lost = np.flatnonzero((weights > 0) & ~allowed.any(axis=1))
    if not len(lost):
        return []
    return [
        f"placement.max_access_km = {settings.max_access_km:g}: no usable candidate site "
        f"within it of village(s) {ids_text([village_ids[int(i)] for i in lost])}"
    ]


def _usable(
    settings: PlacementSettings, *, distance_km: np.ndarray, rules: SiteRules
) -> tuple[np.ndarray, np.ndarray]:
    """``(n_villages, n_sites)``: reachable and not excluded; also within
    ``max_access_km``."""
    ok = np.ones(distance_km.shape[1], dtype=bool)
    ok[rules.excluded] = False
    reachable = np.isfinite(distance_km) & ok[None, :]
    if settings.max_access_km is None:
        return reachable, reachable
    return reachable, reachable & (distance_km <= settings.max_access_km)


def access_costs(
    settings: PlacementSettings,
    *,
    time_min: np.ndarray,
    distance_km: np.ndarray,
    rules: SiteRules,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which village may use which site, and the nearest-station cost.

    Every village with weight has an allowed site (checked by :func:`access_problems`
    in the check pass).

    Returns
    -------
    reachable, allowed, cost
        ``(n_villages, n_sites)``: reachable and not excluded; also within
        ``max_access_km``; travel time or distance (``placement.objective``) where
        allowed, ``inf`` elsewhere.
    """
    base = time_min if settings.objective == "time" else distance_km
    reachable, allowed = _usable(settings, distance_km=distance_km, rules=rules)
    return reachable, allowed, np.where(allowed, base, np.inf)


def fixed_charge_costs(
    settings: PlacementSettings,
    *,
    distance_km: np.ndarray,
    parcels_per_day: np.ndarray,
    allowed: np.ndarray,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Village → site transport cost (``inf`` where not allowed) and site capacities."""
    cap = settings.capacity_parcels_per_day
    assign = np.where(
        allowed,
        parcels_per_day[:, None] * distance_km * settings.transport_cost_per_parcel_km,
        np.inf,
    )
    return assign, None if cap is None else np.full(distance_km.shape[1], float(cap))


def reduce_to_nearest(settings: PlacementSettings, shape: tuple[int, ...]) -> int | None:
    """``k`` of the reduced p-median (:mod:`rural_logistics.placement.reduced`), or
    ``None`` for the full model: ``placement.nearest_sites`` when set, else from
    :data:`REDUCE_FROM_PAIRS` village × site pairs on twice the villages per station,
    at least :data:`~rural_logistics.placement.reduced.DEFAULT_K`."""
    if settings.nearest_sites is not None:
        return int(settings.nearest_sites)
    if shape[0] * shape[1] < REDUCE_FROM_PAIRS:
        return None
    return max(DEFAULT_K, math.ceil(2 * shape[0] / settings.stations))


def solve_placement(
    settings: PlacementSettings,
    *,
    time_min: np.ndarray,
    distance_km: np.ndarray,
    weights: np.ndarray,
    parcels_per_day: np.ndarray,
    rules: SiteRules,
    village_ids: Sequence[str],
    budget: Budget,
) -> PlacementResult:
    """Run the configured placement model.

    Parameters
    ----------
    settings
        The ``placement`` section.
    time_min, distance_km
        ``(n_villages, n_sites)`` access travel time and road distance.
    weights
        Village weights (population or parcels, per ``placement.weight``).
    parcels_per_day
        Village demand (the ``fixed_charge`` model serves parcels).
    rules
        Side constraints (:func:`site_rules`).
    village_ids
        Village ids for error messages.
    budget
        Wall-clock budget of the model (its time left is the model's time limit).

    Returns
    -------
    PlacementResult
        Every village is assigned to an open station (its nearest one when the model
        leaves it unassigned, e.g. a village without weight beyond every radius).
    """
    n_sites = distance_km.shape[1]
    assert not access_problems(
        settings, distance_km=distance_km, weights=weights, rules=rules, village_ids=village_ids
    ), "placement.max_access_km was not checked"
    reachable, allowed, cost = access_costs(
        settings, time_min=time_min, distance_km=distance_km, rules=rules
    )
    base = time_min if settings.objective == "time" else distance_km
    covers = allowed & (distance_km <= settings.radius_km)
    names = [str(v) for v in village_ids]
    time_limit_s = budget.left()
    if settings.method == "p_median" and reduce_to_nearest(settings, cost.shape) is not None:
        k = reduce_to_nearest(settings, cost.shape)
        assert k is not None
        result, _ = solve_reduced_p_median(
            cost, weights, p=settings.stations, rules=rules, time_limit_s=time_limit_s,
            k=k, client_names=names,
        )
    elif settings.method == "p_median":
        result = solve_p_median(
            cost,
            weights,
            p=settings.stations,
            rules=rules,
            time_limit_s=time_limit_s,
            client_names=names,
        )
    elif settings.method == "max_coverage":
        result = solve_max_coverage(
            cost,
            covers,
            weights,
            k=settings.stations,
            rules=rules,
            time_limit_s=time_limit_s,
            client_names=names,
        )
    elif settings.method == "set_cover":
        result = solve_set_cover(
            cost, covers, weights, rules=rules, time_limit_s=time_limit_s, client_names=names
        )
    else:  # fixed_charge, and location_routing's start
        assign, capacity = fixed_charge_costs(
            settings, distance_km=distance_km, parcels_per_day=parcels_per_day, allowed=allowed
        )
        result = solve_fixed_charge(
            assign,
            parcels_per_day,
            np.full(n_sites, settings.opening_cost_per_day),
            capacity=capacity,
            single_source=settings.single_source,
            rules=rules,
            nearest_cost=cost,
            time_limit_s=time_limit_s,
            client_names=names,
        )
    missing = result.assignment < 0
    if missing.any():
        fallback = nearest_open(np.where(reachable, base, np.inf), result.open_sites)
        assignment = np.where(missing, fallback, result.assignment)
        result = PlacementResult(**{**result.__dict__, "assignment": assignment})
    return result
