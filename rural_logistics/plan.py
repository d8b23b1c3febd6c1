"""The result of a run: layers and summary, as the writers and maps consume them.

A :class:`Plan` is immutable and self-describing: every layer is a GeoDataFrame in the
region's projected CRS, with the columns listed below (units in the names).

``villages``
    ``village_id, name, township, population, parcels_per_day, produce_kg_per_day,
    station_id`` (``None`` if unassigned), ``access_km, access_min, within_radius`` (bool),
    ``road_distance_m`` (straight-line distance to the nearest road), ``geometry`` (Point).
``stations``
    ``station_id, site_id, name, township, existing`` (bool), ``villages`` (count assigned),
    ``population, parcels_per_day, produce_kg_per_day, visits`` (vehicle stops),
    ``delivered_parcels_per_day, geometry`` (Point).
``depots``
    ``depot_id, name, geometry`` (Point).
``routes``
    ``route_id, vehicle_id, vehicle_type, stops`` (station ids joined by ``>``),
    ``n_stops, load_parcels, route_km, route_min, cost, geometry`` (LineString along roads).
``townships``
    Optional polygons with ``name`` for maps, or ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd


@dataclass(frozen=True)
class Plan:
    """A complete plan for one region and scenario.

    Attributes
    ----------
    region
        Region name from the config.
    scenario
        Demand scenario name.
    crs
        The projected CRS all layers are in (e.g. ``"EPSG:32649"``).
    villages, stations, depots, routes
        Layers, see the module docstring for columns.
    townships
        Optional township boundary polygons (``name`` column), for maps.
    summary
        The key figures written to ``summary.json``.
    warnings
        Problems that did not stop the run (remote villages, rounding, …).
    """

    region: str
    scenario: str
    crs: str
    villages: gpd.GeoDataFrame
    stations: gpd.GeoDataFrame
    depots: gpd.GeoDataFrame
    routes: gpd.GeoDataFrame
    townships: gpd.GeoDataFrame | None
    summary: dict[str, Any]
    warnings: tuple[str, ...] = field(default=())
    radius_km: float = 3.0
