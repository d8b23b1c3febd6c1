"""The last metres: stations served at the depot, stations far from any road.

A station within :data:`AT_DEPOT_KM` by road of the county distribution centre is served
there without a vehicle (the routing stage leaves it out); a station farther than
``network.remote_warning_m`` from any road is warned about and its straight off-road leg
(from the station to the road where vans stop) is listed for the map.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from rural_logistics import network as net
from rural_logistics.config import RegionConfig
from rural_logistics.region import PreparedRegion
from rural_logistics.routing import RoutingProblem, RoutingResult
from rural_logistics.summary import OffroadLeg
from rural_logistics.text import ids_text

#: A station this close to the county distribution centre (road km, both ways) is served
#: at the depot: its parcels are handed over there, no vehicle drives to it.
AT_DEPOT_KM = 0.1


def at_depot_stations(template: RoutingProblem) -> np.ndarray:
    """Per open station of a routing template: within :data:`AT_DEPOT_KM` of depot 0."""
    d = template.n_depots
    km = np.asarray(template.distance_km)
    return (km[0, d:] <= AT_DEPOT_KM) & (km[d:, 0] <= AT_DEPOT_KM)


def restore_stops(result: RoutingResult, routed: np.ndarray) -> RoutingResult:
    """Stops numbered among the routed stations (1..len(routed)) → among all open
    stations (station ``routed[k-1]`` is stop ``routed[k-1] + 1``)."""
    if len(routed) and np.array_equal(routed, np.arange(len(routed))):
        return result

    def back(stop: int) -> int:
        return int(routed[stop - 1]) + 1

    routes = tuple(
        replace(r, stops=tuple(back(x) for x in r.stops),
                trips=tuple(tuple(back(x) for x in t) for t in r.trips))
        for r in result.routes
    )
    unserved = tuple((back(n), p) for n, p in result.unserved)
    return replace(result, routes=routes, unserved=unserved)


def served_at_depot(prepared: PreparedRegion, open_sites: np.ndarray) -> np.ndarray:
    """Open stations whose road distance to and from the county DC is at most
    :data:`AT_DEPOT_KM` (the routing stage leaves them out: served at the depot)."""
    stops = net.SnappedPoints(
        node=np.concatenate([prepared.depot.node[:1], prepared.sites.node[open_sites]]),
        offroad_m=np.zeros(len(open_sites) + 1),
        xy=np.vstack([prepared.depot.xy[:1], prepared.sites.xy[open_sites]]),
    )
    travel = net.travel_matrices(prepared.network, stops, stops, offroad_speed_kph=5.0,
                                 include_offroad=False)
    km = travel.distance_km
    return np.asarray((km[0, 1:] <= AT_DEPOT_KM) & (km[1:, 0] <= AT_DEPOT_KM))


def offroad_legs(
    config: RegionConfig, prepared: PreparedRegion, open_sites: np.ndarray,
    station_ids: np.ndarray,
) -> list[OffroadLeg]:
    """Stations farther than ``network.remote_warning_m`` from a road: the straight leg from
    the station to the road where vans stop (working-CRS coordinates, for the map)."""
    if config.network.mode != "roads":
        return []
    offroad = prepared.sites.offroad_m[open_sites]
    legs: list[OffroadLeg] = []
    for k in np.flatnonzero(offroad > config.network.remote_warning_m):
        site = int(open_sites[k])
        road = prepared.network.node_xy[prepared.sites.node[site]]
        legs.append({
            "station_id": str(station_ids[k]),
            "offroad_m": round(float(offroad[k]), 1),
            "station_xy": [round(float(v), 2) for v in prepared.sites.xy[site]],
            "road_xy": [round(float(v), 2) for v in road],
        })
    return legs


def last_metre_notes(
    config: RegionConfig,
    prepared: PreparedRegion,
    open_sites: np.ndarray,
    station_ids: np.ndarray,
    at_depot: np.ndarray,
) -> list[str]:
    """Warnings for stations served at the depot and stations far from a road."""
    notes = []
    if at_depot.any():
        notes.append(
            f"{int(at_depot.sum())} station(s) at the county distribution centre (within "
            f"{AT_DEPOT_KM * 1000:g} m by road) are served there without a vehicle: "
            f"{ids_text(station_ids[at_depot])}"
        )
    limit = config.network.remote_warning_m
    offroad = prepared.sites.offroad_m[open_sites]
    far = offroad > limit
    if far.any() and config.network.mode == "roads":
        detail = [f"{sid} ({m / 1000:.1f} km)" for sid, m in
                  zip(station_ids[far], offroad[far], strict=True)]
        notes.append(
            f"{int(far.sum())} station(s) farther than {limit:g} m from any road: vans stop at "
            "the nearest road and the last stretch (the dashed line on the map) is covered "
            f"off-road at {config.network.offroad_speed_kph:g} km/h, counted in the villages' "
            f"access but in no route: {ids_text(detail)}"
        )
    return notes
