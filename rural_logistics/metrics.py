"""Key figures of a plan: coverage, access, equity, fleet and cost.

All functions take plain arrays or the plan layers and return numbers; nothing here
solves or draws. Access figures are population-weighted unless the name says otherwise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rural_logistics.summary import KeyFigures


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    """Weighted mean; plain mean when all weights are zero; NaN when empty."""
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    if values.size == 0:
        return float("nan")
    if weights.sum() <= 0:
        return float(values.mean())
    return float(np.average(values, weights=weights))


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Smallest value ``v`` such that at least a share ``q`` of the weight is at or below ``v``."""
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    if values.size == 0:
        return float("nan")
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    if cum[-1] <= 0:
        return float(np.quantile(values, q))
    k = int(np.searchsorted(cum, q * cum[-1] - 1e-12 * cum[-1]))
    return float(values[order][min(k, len(values) - 1)])


def gini(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Gini coefficient of ``values`` (0 = all equal), optionally weighted.

    Uses the weighted mean-absolute-difference form
    ``G = Σ_i Σ_j w_i w_j |x_i - x_j| / (2 (Σ w)² x̄)``.
    """
    x = np.asarray(values, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    if x.size == 0 or w.sum() <= 0:
        return float("nan")
    mean = np.average(x, weights=w)
    if mean <= 0:
        return 0.0
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cw = np.cumsum(w)
    cxw = np.cumsum(x * w)
    total_w = cw[-1]
    # Σ_i w_i Σ_{j<i} w_j (x_i - x_j), doubled, over all ordered pairs.
    prev_w = cw - w
    prev_xw = cxw - x * w
    mad = 2.0 * float(np.sum(w * (x * prev_w - prev_xw)))
    return mad / (2.0 * total_w**2 * mean)


def summarize(
    *,
    region: str,
    scenario: str,
    villages: pd.DataFrame,
    stations: pd.DataFrame,
    routes: pd.DataFrame,
    radius_km: float,
    unserved_village_ids: list[str],
    opening_cost_per_day: float = 0.0,
    days: int = 1,
) -> KeyFigures:
    """The key figures written to ``summary.json``.

    Parameters
    ----------
    region, scenario
        Names.
    villages
        Village layer (``population, parcels_per_day, access_km, access_min, station_id``).
    stations
        Station layer (``parcels_per_day, delivered_parcels_per_day``).
    routes
        Route layer (``vehicle_id, route_km, route_min, cost, load_parcels``).
    radius_km
        Service radius for the coverage share.
    unserved_village_ids
        Villages whose parcels are not (fully) delivered.
    opening_cost_per_day
        Stations and hubs open (added to the routes' cost: ``total_cost_per_day`` and
        ``cost_per_parcel`` count every cost).
    days
        Days the routes cover (the peak week): route cost, km and minutes are means
        per day.

    Returns
    -------
    KeyFigures
        JSON-ready figures; see the README's output reference.
    """
    pop = villages["population"].to_numpy(dtype=float)
    access_km = villages["access_km"].to_numpy(dtype=float)
    access_min = villages["access_min"].to_numpy(dtype=float)
    assigned = villages["station_id"].notna().to_numpy()
    within = assigned & (access_km <= radius_km)
    total_pop = float(pop.sum())
    parcels = float(villages["parcels_per_day"].sum())
    cost = (float(routes["cost"].sum()) if len(routes) else 0.0) / days + opening_cost_per_day
    # Vans carry whole parcels (a station's load is rounded up), so what a station
    # receives can exceed its demand by a fraction of a parcel; the figure reported is
    # the demand served, never more than the demand.
    delivered = (
        float(
            np.minimum(
                stations["delivered_parcels_per_day"].to_numpy(dtype=float),
                stations["parcels_per_day"].to_numpy(dtype=float),
            ).sum()
        )
        if len(stations)
        else 0.0
    )
    delivered = min(delivered, parcels)  # layers are rounded to 0.01 parcel
    a_km, a_min, a_pop = access_km[assigned], access_min[assigned], pop[assigned]
    return {
        "delivered_share": round(delivered / parcels, 4) if parcels > 0 else 1.0,
        "region": region,
        "scenario": scenario,
        "villages": len(villages),
        "population": round(total_pop),
        "parcels_per_day": round(parcels, 1),
        "stations_open": len(stations),
        "radius_km": radius_km,
        "population_within_radius": round(float(pop[within].sum())),
        "population_within_radius_share": round(float(pop[within].sum()) / total_pop, 4)
        if total_pop > 0
        else 0.0,
        "mean_access_km": round(weighted_mean(a_km, a_pop), 3),
        "p90_access_km": round(weighted_quantile(a_km, a_pop, 0.9), 3),
        "max_access_km": round(float(a_km.max()), 3) if a_km.size else None,
        "mean_access_min": round(weighted_mean(a_min, a_pop), 2),
        "p90_access_min": round(weighted_quantile(a_min, a_pop, 0.9), 2),
        "max_access_min": round(float(a_min.max()), 2) if a_min.size else None,
        "villages_beyond_5km": int(np.count_nonzero(a_km > 5.0)),
        "villages_beyond_10km": int(np.count_nonzero(a_km > 10.0)),
        "access_gini": round(gini(a_km, a_pop), 4),
        "vehicles_used": int(routes["vehicle_id"].nunique()) if len(routes) else 0,
        "routes": len(routes),
        "total_route_km": round(float(routes["route_km"].sum()) / days, 2)
        if len(routes) else 0.0,
        "total_route_min": round(float(routes["route_min"].sum()) / days, 1)
        if len(routes) else 0.0,
        "delivered_parcels_per_day": round(delivered, 1),
        "total_cost_per_day": round(cost, 2),
        "cost_per_parcel": round(cost / delivered, 4) if delivered > 0 else None,
        "unserved_villages": sorted(unserved_village_ids),
    }


def run_status(
    *,
    placement_status: str,
    placement_gap: float,
    placement_bound: float,
    time_limit_s: float,
    n_unserved: int,
    n_proven_unserved: int,
    bound_text: str = "",
    n_priced_out: int = 0,
) -> tuple[str, str]:
    """The run's overall ``status`` and a one-sentence explanation.

    - ``infeasible``: some open stations cannot be served by the fleet, proven from the
      data (no vehicle reaches them within its limits, or the fleet's parcel capacity is
      below the demand); ``diagnosis`` lists them and why;
    - ``partial``: some stations are unserved although no such proof exists: the routing
      search found no plan serving them within its time limit;
    - ``time_limit``: a complete plan, but placement stopped at its time limit before
      proving optimality (``placement.bound`` and ``placement.gap`` say how far from
      optimal it can be);
    - ``feasible``: a complete plan; ``placement.status`` says whether the stations are
      proven optimal.

    Routing is a heuristic search up to its time limit and proves no bound on its cost,
    so no run claims ``optimal`` as a whole. ``bound_text`` (the delivery bound's
    sentence: a proven shortfall, and how far the plan is from it) starts the detail of a
    run with unserved stations. ``n_priced_out`` of the unserved stations were left out
    at a penalty of their own below the default (``partial``, said as such: a price the
    planner set, not a search that fell short).

    Returns
    -------
    status, detail
    """
    if placement_status == "optimal":
        placed = "placement proven optimal"
    elif placement_status == "feasible":
        gap = f"{placement_gap:.2%}" if np.isfinite(placement_gap) else "unknown"
        placed = (
            f"placement stopped at its time limit (its share of the run's {time_limit_s:g} s), "
            f"gap {gap} (bound {placement_bound:.6g})"
        )
    else:
        placed = f"placement {placement_status} (no optimality proof)"
    routed = (
        f"routing: best plan found by the heuristic search within the run's {time_limit_s:g} s "
        "(no bound)"
    )
    lead = f"{bound_text}; " if bound_text and n_unserved else ""
    if n_proven_unserved:
        return "infeasible", (
            f"{lead}{n_proven_unserved} station(s) cannot be (fully) served by this fleet "
            f"(see diagnosis); {placed}; {routed}"
        )
    if n_unserved:
        why = []
        if n_priced_out:
            why.append(f"{n_priced_out} priced out at their own unserved penalty")
        if n_unserved > n_priced_out:
            why.append(f"{n_unserved - n_priced_out} for which no plan serving them was found "
                       "within the time limit")
        return "partial", (
            f"{lead}{n_unserved} station(s) unserved: {'; '.join(why)} (see diagnosis); "
            f"{placed}; {routed}"
        )
    if placement_status == "feasible":
        return "time_limit", f"{placed}; {routed}"
    return "feasible", f"{placed}; {routed}"
