"""The result of a run: layers and summary, as the writers and maps consume them.

A :class:`Plan` is immutable and self-describing: every layer is a GeoDataFrame in the
region's projected CRS, with the columns listed below (units in the names).

``villages``
    ``village_id, name, township, population, parcels_per_day, produce_kg_per_day,
    station_id`` (``None`` if unassigned), ``access_km, access_min, within_radius`` (bool),
    ``road_distance_m`` (straight-line distance to the nearest road), ``served`` (bool: its
    station gets all its parcels), ``unserved_reason``, ``geometry`` (Point).
``stations``
    ``station_id, site_id, name, township, existing`` (bool), ``villages`` (count assigned),
    ``population, parcels_per_day, produce_kg_per_day, visits`` (vehicle stops),
    ``delivered_parcels_per_day, served_by, road_distance_m, served, unserved_parcels,
    unserved_reason, geometry`` (Point).
``depots``
    ``depot_id, name, geometry`` (Point); with hubs also ``role``.
``routes``
    One row per trip: ``route_id`` (the vehicle's day), ``trip`` (from 1), ``vehicle_id,
    vehicle_type, tier, day, depot_id, stops`` (station ids joined by ``>``), ``n_stops,
    load_parcels, produce_kg, capacity_parcels, start_min, end_min, start, end`` (``HH:MM``),
    ``route_km, route_min, cost, distance_basis, geometry`` (LineString along roads).
``vehicle_days``
    One row per vehicle and day, all trips: the columns of ``routes`` but ``trip`` and
    ``capacity_parcels``, with ``n_trips``; ``stops`` lists the depot between trips.
``stops``
    Every stop in driving order: ``route_id, trip, sequence`` (0 = leaving the depot),
    ``vehicle_id, tier, day, kind`` (``depart``, ``station``, ``hub``, ``return``),
    ``stop_id, stop_name, arrival_min, start_min, departure_min, arrival, departure,
    wait_min, parcels_delivered, produce_kg_collected, parcels_on_board,
    produce_kg_on_board, load_kg_on_board`` (after the stop), ``geometry`` (Point).
``townships``
    Optional polygons with ``name`` for maps, or ``None``.
``desire_lines``
    One straight line per village with a station, village → station: ``village_id,
    village_name, station_id, station_name, township, parcels_per_day, access_km,
    access_min`` (by road, as on the villages layer), ``straight_km, served``,
    ``geometry`` (LineString; zero length for a village hosting its station).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import geopandas as gpd

from rural_logistics.summary import CostSection, Summary

#: The layers of a plan written to ``plan.gpkg`` (and read back by the report).
PLAN_LAYERS = ("villages", "stations", "depots", "routes")
#: Layers written when the plan has them (``townships``: with township boundaries); a
#: run folder without them (written by an older version) still reads.
OPTIONAL_LAYERS = ("vehicle_day", "stops", "townships", "desire_lines")


@dataclass(frozen=True)
class CostSplit:
    """Daily cost of a plan by part (currency units per day).

    Attributes
    ----------
    opening
        Stations (and hubs) open.
    fixed_vehicle
        Fixed cost of the vehicles used.
    travel
        Running cost of the kilometres driven.
    village_transport
        Villagers' transport to their station (``transport_cost_per_parcel_km``), where
        it is priced (location-routing's plan comparison); ``None``: not part of this
        split.
    unserved_penalty
        Price of the parcels left unserved, where counted; ``None``: not part of it.
    """

    opening: float
    fixed_vehicle: float
    travel: float
    village_transport: float | None = None
    unserved_penalty: float | None = None

    @property
    def total(self) -> float:
        """Sum of every part present."""
        return (
            self.opening + (self.village_transport or 0.0) + self.fixed_vehicle + self.travel
            + (self.unserved_penalty or 0.0)
        )

    def as_dict(self) -> CostSection:
        """``summary.json`` form (rounded to 0.01; absent parts left out)."""
        parts = (
            ("opening_per_day", self.opening),
            ("village_transport_per_day", self.village_transport),
            ("fixed_vehicle_per_day", self.fixed_vehicle),
            ("travel_per_day", self.travel),
            ("unserved_penalty_per_day", self.unserved_penalty),
            ("total_per_day", self.total),
        )
        return cast(CostSection, {k: round(v, 2) for k, v in parts if v is not None})

    def __add__(self, other: CostSplit) -> CostSplit:
        """Part by part (days or carriers combined); a part absent on both stays absent."""

        def both(a: float | None, b: float | None) -> float | None:
            return None if a is None and b is None else (a or 0.0) + (b or 0.0)

        return CostSplit(
            opening=self.opening + other.opening,
            fixed_vehicle=self.fixed_vehicle + other.fixed_vehicle,
            travel=self.travel + other.travel,
            village_transport=both(self.village_transport, other.village_transport),
            unserved_penalty=both(self.unserved_penalty, other.unserved_penalty),
        )


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
    radius_km
        The service radius of the access figures.
    vehicle_days
        One row per vehicle and day (all its trips; the figures of ``summary`` are
        computed from it), or ``None`` (a plan read from an older run folder).
    stops
        Every stop of every trip with its times and loads, or ``None``.
    desire_lines
        Village → station lines, or ``None`` (a plan read from an older run folder).
    """

    region: str
    scenario: str
    crs: str
    villages: gpd.GeoDataFrame
    stations: gpd.GeoDataFrame
    depots: gpd.GeoDataFrame
    routes: gpd.GeoDataFrame
    townships: gpd.GeoDataFrame | None
    summary: Summary
    warnings: tuple[str, ...] = field(default=())
    radius_km: float = 3.0
    vehicle_days: gpd.GeoDataFrame | None = None
    stops: gpd.GeoDataFrame | None = None
    desire_lines: gpd.GeoDataFrame | None = None
