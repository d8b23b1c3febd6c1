"""Why a station was left unserved: one plain reason per station.

A station is unserved either because **no vehicle can serve it at all** (its round trip
from the vehicle's depot is longer than the shift or the distance limit, or the vehicle
cannot arrive while the station is open) or because **the fleet is used up** (not enough
parcel capacity in total, or not enough vehicle time once the other stations are served).
The first kind is decided per station and vehicle type from the problem's own numbers;
the second is what remains.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rural_logistics.routing.model import (
    DeliveryBound,
    RoutingProblem,
    VehicleSpec,
    service_minutes,
)

#: Start of the one reason that is not a proof: the search found no plan in its time.
NOT_PROVEN = "fleet time"
#: Start of a peak-week reason that is not a proof (the routes missed a day's promise
#: although the hire bound allowed it).
PEAK_NOT_PROVEN = "peak week, not proven"


#: Start of the reason of a station left out at a penalty of its own below the default
#: (a price the planner set, not a proof).
PRICED_OUT = "priced out"


def is_proven(reason: str) -> bool:
    """Whether a reason proves the station cannot be served (not just: none found)."""
    return bool(reason) and not reason.startswith((NOT_PROVEN, PEAK_NOT_PROVEN, PRICED_OUT))


def blocked_reason(problem: RoutingProblem, vehicle: VehicleSpec, node: int) -> str | None:
    """Why ``vehicle`` cannot serve ``node`` even alone on an empty day, or ``None``."""
    depot = vehicle.depot
    out_min = float(problem.time_min[depot, node]) / vehicle.speed_factor
    back_min = float(problem.time_min[node, depot]) / vehicle.speed_factor
    service = vehicle.service_time_min + float(service_minutes(problem)[node])
    if not np.isfinite(out_min + back_min):
        return f"{vehicle.type_name}: no road from its depot"
    round_min = out_min + service + back_min
    if round_min > vehicle.max_route_duration_min + 1e-9:
        return (
            f"{vehicle.type_name}: the round trip takes {round_min:.0f} min, more than its "
            f"{vehicle.max_route_duration_min:g} min shift"
        )
    km = float(problem.distance_km[depot, node] + problem.distance_km[node, depot])
    if vehicle.max_route_distance_km is not None and km > vehicle.max_route_distance_km + 1e-9:
        return (
            f"{vehicle.type_name}: the round trip is {km:.1f} km, more than its "
            f"{vehicle.max_route_distance_km:g} km limit"
        )
    if problem.time_window_min is not None:
        open_min, close_min = (float(x) for x in problem.time_window_min[node])
        arrive = vehicle.shift_start_min + out_min
        if arrive > close_min + 1e-9:
            return (
                f"{vehicle.type_name}: arrives at {arrive:.0f} min at the earliest, after the "
                f"station closes ({close_min:g})"
            )
        shift_end = vehicle.shift_start_min + vehicle.max_route_duration_min
        if max(arrive, open_min) + service + back_min > shift_end + 1e-9:
            return (
                f"{vehicle.type_name}: cannot be back by the end of its shift after serving "
                f"the station from its opening at {open_min:g} min"
            )
    return None


def diagnose_unserved(
    problem: RoutingProblem,
    unserved: Sequence[tuple[int, int]],
    bound: DeliveryBound | None = None,
) -> tuple[str, ...]:
    """One reason per unserved ``(node, parcels)`` pair, in the same order.

    Parameters
    ----------
    problem
        The routing problem that was solved.
    unserved
        The unserved stations (node, parcels), as in :class:`RoutingResult.unserved`.
    bound
        The problem's delivery bounds (:mod:`rural_logistics.routing.bounds`): a bound
        below the demand (shift time, or the capacity of the vehicles able to reach the
        stations) proves a shortfall even when the fleet's total capacity suffices.

    Returns
    -------
    tuple of str
    """
    if not unserved:
        return ()
    if not problem.vehicles:
        return tuple("the fleet is empty" for _ in unserved)
    parcels = np.ceil(np.asarray(problem.parcels_per_day, dtype=float) - 1e-9)
    demand = float(np.maximum(parcels[problem.n_depots :], 0).sum())
    carry = sum(v.capacity_parcels * v.max_trips for v in problem.vehicles)
    # One representative per distinct vehicle type (the fleet is expanded per vehicle).
    kinds = list({v.type_name: v for v in problem.vehicles}.values())
    reasons = []
    for node, _ in unserved:
        blocked = [blocked_reason(problem, v, int(node)) for v in kinds]
        if all(b is not None for b in blocked):
            reasons.append("no vehicle can serve it: " + "; ".join(str(b) for b in blocked))
        elif carry < demand:
            reasons.append(
                f"fleet capacity: the vehicles carry at most {carry:,} parcels/day "
                f"(capacity × trips, all vehicles) for {demand:,.0f} parcels/day at the open "
                "stations"
            )
        elif problem.penalty_weight is not None and float(
                np.asarray(problem.penalty_weight)[node]) < 1.0:
            rate = float(problem.penalty_rates()[node])
            reasons.append(
                f"{PRICED_OUT}: left unserved at its own penalty of {rate:g} per parcel "
                f"(below the default {problem.unserved_penalty_per_parcel:g}); the routes "
                "found did not serve it at that price (raise its penalty to have it served)"
            )
        elif bound is not None and bound.binding:
            reasons.append(
                f"proven {bound.binding.replace('_', ' ')} bound: at most "
                f"{bound.bound_parcels:,.0f} of {bound.demand_parcels:,} parcels/day can be "
                f"delivered; {bound.lift}"
            )
        else:
            reasons.append(
                f"{NOT_PROVEN}: a vehicle can reach it and the parcel capacity suffices, but no "
                "plan serving it within the shifts and trips was found in the time limit; "
                "add vehicles, trips or longer shifts"
            )
    return tuple(reasons)
