"""How distances and times are made: the road network, straight lines or a matrix.

``network.mode`` (see the README, "Plans without road data"): :func:`build_graph` builds
the travel network of the mode from the region's layers; :func:`network_mode_notes` is the
warning every plan without roads carries and :func:`network_summary` the ``summary.json``
section that says what the figures are based on.
"""

from __future__ import annotations

import numpy as np

from rural_logistics import network as net
from rural_logistics.config import RegionConfig
from rural_logistics.errors import InputDataError
from rural_logistics.io import RegionData
from rural_logistics.network import points
from rural_logistics.summary import NetworkSection
from rural_logistics.text import ids_text


def network_source(config: RegionConfig) -> object:
    mode = config.network.mode
    if mode == "roads":
        return config.data.roads
    return config.data.travel_matrix if mode == "matrix" else "network.mode: straight_line"


def network_mode_notes(config: RegionConfig) -> list[str]:
    """The warning every plan made without road data carries (empty with roads)."""
    settings = config.network
    ignored = (
        [f"data.roads ({config.data.roads}) is not used with network.mode: {settings.mode}"]
        if settings.mode != "roads" and config.data.roads is not None else []
    )
    if settings.mode == "straight_line":
        return [
            *ignored,
            f"no road data (network.mode: straight_line): distances are straight lines × "
            f"circuity {settings.circuity:g}, times at {settings.straight_line_speed_kph:g} "
            "km/h; routes are drawn as straight lines",
        ]
    if settings.mode == "matrix":
        return [
            *ignored,
            f"no road data (network.mode: matrix): distances and times from "
            f"{config.data.travel_matrix}; routes are drawn as straight lines",
        ]
    if config.data.travel_matrix is not None:
        return [f"data.travel_matrix ({config.data.travel_matrix}) is not used with "
                f"network.mode: {settings.mode}"]
    return []


def network_summary(config: RegionConfig, graph: net.RoadNetwork) -> NetworkSection:
    """``summary.json`` section ``network``: what the distances and times are based on."""
    settings = config.network
    if settings.mode == "straight_line":
        return {
            "mode": settings.mode,
            "distance_basis": f"straight line x circuity {settings.circuity:g}",
            "circuity": settings.circuity,
            "speed_kph": settings.straight_line_speed_kph,
        }
    if settings.mode == "matrix":
        return {"mode": settings.mode,
                "distance_basis": f"travel matrix {config.data.travel_matrix}",
                "matrix_rows": len(graph.edge_u)}
    road = ~graph.connector
    return {
        "mode": settings.mode,
        "distance_basis": "roads",
        "road_km": round(float(graph.length_m[road].sum()) / 1000, 3),
        "oneway_km": round(float(graph.length_m[road & graph.oneway].sum()) / 1000, 3)
        if graph.oneway is not None else 0.0,
        "connector_km": round(float(graph.length_m[graph.connector].sum()) / 1000, 3),
    }


def build_graph(
    config: RegionConfig, data: RegionData, xy: dict[str, np.ndarray]
) -> tuple[net.RoadNetwork, dict[str, net.SnappedPoints]]:
    """The travel network of ``network.mode``: roads, straight lines or a matrix."""
    settings = config.network
    if settings.mode == "straight_line":
        return points.build_point_network(
            xy, circuity=settings.circuity, speed_kph=settings.straight_line_speed_kph
        )
    if settings.mode == "matrix":
        matrix = data.travel_matrix
        assert matrix is not None
        ids = {
            "villages": [str(v) for v in data.villages["village_id"]],
            "sites": [str(v) for v in data.sites["site_id"]],
            "depots": [str(v) for v in data.depots["depot_id"]],
        }
        known = set().union(*ids.values())
        unknown = sorted((set(matrix["origin"]) | set(matrix["destination"])) - known)
        if unknown:
            raise InputDataError(
                f"{config.data.travel_matrix}: id(s) {ids_text(unknown)} are not "
                "villages, candidate sites, towns or depots of this region"
            )
        return points.build_matrix_network(
            xy, ids, origin=matrix["origin"].tolist(), destination=matrix["destination"].tolist(),
            km=matrix["km"].to_numpy(dtype=float), minutes=matrix["min"].to_numpy(dtype=float),
        )
    try:
        return net.build_road_network(
            data.roads.geometry.to_numpy(),
            data.roads["speed_kph"].to_numpy(dtype=float),
            points=xy,
            oneway=data.roads["oneway"].to_numpy(dtype=bool)
            if "oneway" in data.roads.columns else None,
        )
    except ValueError as exc:
        raise InputDataError(f"{config.data.roads}: {exc}") from None
