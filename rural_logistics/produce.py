"""Two-way flows: the farm produce the routes collect, and what they leave behind and why.

Produce is offered at each open station (its villages' ``produce_kg_per_day`` times the
scenario's ``demand.produce_multiplier``). With ``routing.pickup_produce`` the vehicle
collects it on the delivery visit, its kilograms counted against ``capacity_kg`` after
every stop (the routing engines and :mod:`rural_logistics.routing.evaluate` carry the
load along the route). This module reads the routes back:

- collected: the produce picked up at each station (a mean day over the plan's days); a
  station at the depot hands its produce in at the depot (collected, no stop);
- left behind, with one reason per station:

  ``not_planned``
      ``routing.pickup_produce`` is off: nothing is collected on the routes.
  ``station_unserved``
      the station's parcels are not all delivered (see ``diagnosis``); its produce
      stays with them.
  ``not_visited``
      a station with produce but no parcels that no vehicle stops at.
  ``capacity``
      the station is served, but its produce (what is left of it) would overflow
      ``capacity_kg`` on the trip that stops there. The routing engines may deliver a
      station's parcels without its produce (``routing.produce_value_per_kg``), so
      produce never keeps parcels from being delivered.
  ``cost``
      it would fit, but the search found collecting it dearer than its value
      (``routing.produce_value_per_kg`` per kg).

Collected plus left behind equals offered, station by station.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np

from rural_logistics.config import RegionConfig
from rural_logistics.delivery import Delivery
from rural_logistics.summary import ProduceLeftRow, ProduceSection

#: Reasons for produce left behind, in the order they are reported.
LEFT_REASONS = ("not_planned", "station_unserved", "not_visited", "capacity", "cost")


@dataclass(frozen=True)
class ProduceService:
    """Produce per open station (``open_sites`` order), kilograms per day.

    Attributes
    ----------
    offered_kg
        Produce ready at the station.
    collected_kg
        Picked up by the routes (or handed in at the depot).
    reason
        Why produce is left behind (a key of :data:`LEFT_REASONS`), ``""`` when none is.
    detail
        The reason in words (the station's diagnosis when it is unserved).
    """

    offered_kg: np.ndarray
    collected_kg: np.ndarray
    reason: tuple[str, ...]
    detail: tuple[str, ...]

    @property
    def left_kg(self) -> np.ndarray:
        """Produce left behind per station (offered − collected, never negative)."""
        return np.maximum(self.offered_kg - self.collected_kg, 0.0)


def _would_overflow(delivery: Delivery, station: int, more_kg: float) -> bool:
    """Whether ``more_kg`` more produce at open station ``station`` would overflow the
    kilogram capacity of a trip that stops there (at any point of the trip)."""
    for tier in delivery.station_tiers:
        problem = tier.problem
        for route in tier.result.routes:
            cap = problem.vehicles[route.vehicle].capacity_kg
            ups = list(route.pickups_kg or tuple(0.0 for _ in route.stops))
            position = 0
            for trip in route.trip_stops:
                span = range(position, position + len(trip))
                position += len(trip)
                hits = [i for i in span if tier.station_of(route.stops[i]) == station]
                if not hits:
                    continue
                if cap is None:
                    return False
                trial = [ups[i] for i in span]
                trial[hits[0] - span.start] += more_kg
                loads = [route.loads[i] for i in span]
                if trip_peak_kg(problem.parcel_kg, loads, trial) > cap + 1e-9:
                    return True
    return False


def produce_service(config: RegionConfig, delivery: Delivery) -> ProduceService:
    """Produce offered, collected and left behind at each open station, and why."""
    offered = np.asarray(delivery.loads.produce_kg_per_day, dtype=float)
    n = len(offered)
    collected = np.zeros(n)
    stops = np.zeros(n, dtype=int)
    for tier in delivery.station_tiers:
        for route in tier.result.routes:
            ups = route.pickups_kg or tuple(0.0 for _ in route.stops)
            for stop, up in zip(route.stops, ups, strict=True):
                collected[tier.station_of(stop)] += float(up)
                stops[tier.station_of(stop)] += 1
    collected = collected / delivery.days
    collected = np.where(delivery.at_depot, offered, np.minimum(collected, offered))
    unserved: dict[int, str] = {}
    for tier in delivery.station_tiers:
        reasons = tier.result.unserved_reasons or ("",) * len(tier.result.unserved)
        for (node, _), why in zip(tier.result.unserved, reasons, strict=True):
            unserved[tier.station_of(node)] = why
    value = config.routing.produce_value_per_kg
    reason: list[str] = []
    detail: list[str] = []
    for k in range(n):
        left = offered[k] - collected[k]
        if left <= 1e-9:
            reason.append("")
            detail.append("")
        elif not config.routing.pickup_produce:
            reason.append("not_planned")
            detail.append("routing.pickup_produce is false: produce is not collected")
        elif k in unserved:
            reason.append("station_unserved")
            detail.append(unserved[k] or "the station's parcels are not all delivered")
        elif stops[k] == 0:
            reason.append("not_visited")
            detail.append("no vehicle stops at this produce-only station (no parcels to "
                          f"deliver): the trip would cost more than {value:g} per kg or "
                          "no vehicle has room")
        elif _would_overflow(delivery, k, left):
            reason.append("capacity")
            detail.append(f"{left:,.1f} kg more would overflow capacity_kg on the trip "
                          "that stops there")
        else:
            reason.append("cost")
            detail.append(f"it would fit, but collecting it was priced above its value "
                          f"({value:g} per kg, routing.produce_value_per_kg) by the search")
    return ProduceService(offered, collected, tuple(reason), tuple(detail))


def with_produce_columns(stations: gpd.GeoDataFrame, produce: ProduceService
                         ) -> gpd.GeoDataFrame:
    """The stations layer with ``produce_kg_collected_per_day``,
    ``produce_kg_left_per_day`` and ``produce_left_reason`` (before the geometry)."""
    out = stations.copy()
    geometry = out.pop("geometry")
    out["produce_kg_collected_per_day"] = np.round(produce.collected_kg, 1)
    out["produce_kg_left_per_day"] = np.round(produce.left_kg, 1)
    out["produce_left_reason"] = list(produce.reason)
    out["geometry"] = geometry
    return gpd.GeoDataFrame(out, geometry="geometry", crs=geometry.crs)


def trip_peak_kg(parcel_kg: float, loads: Sequence[int], ups: Sequence[float]) -> float:
    """Heaviest load on board during a trip (kg): every delivery at the start, then
    ``− parcels × parcel_kg + produce`` after each stop."""
    load = peak = sum(loads) * parcel_kg
    for parcels, up in zip(loads, ups, strict=True):
        load += float(up) - parcels * parcel_kg
        peak = max(peak, load)
    return float(peak)


def peak_load(delivery: Delivery) -> tuple[float, float | None]:
    """Heaviest load on board (kg) over every trip and stop, and the highest share of
    its vehicle's ``capacity_kg`` any trip reaches (possibly another trip; ``None``
    without a kilogram limit)."""
    top_kg, top_share = 0.0, None
    for tier in delivery.station_tiers:
        problem = tier.problem
        for route in tier.result.routes:
            vehicle = problem.vehicles[route.vehicle]
            ups = route.pickups_kg or tuple(0.0 for _ in route.stops)
            position = 0
            for trip in route.trip_stops:
                loads = route.loads[position: position + len(trip)]
                kg_up = ups[position: position + len(trip)]
                position += len(trip)
                peak = trip_peak_kg(problem.parcel_kg, loads, kg_up)
                top_kg = max(top_kg, peak)
                if vehicle.capacity_kg is not None and vehicle.capacity_kg > 0:
                    share = peak / vehicle.capacity_kg
                    top_share = share if top_share is None else max(top_share, share)
    return top_kg, top_share


def produce_section(
    config: RegionConfig, delivery: Delivery, produce: ProduceService, station_ids: np.ndarray
) -> ProduceSection:
    """The ``produce`` section of ``summary.json``."""
    offered = float(produce.offered_kg.sum())
    collected = float(produce.collected_kg.sum())
    left = produce.left_kg
    by_reason = {key: 0.0 for key in LEFT_REASONS}
    stations: list[ProduceLeftRow] = []
    for k, why in enumerate(produce.reason):
        if not why:
            continue
        by_reason[why] += float(left[k])
        stations.append({
            "station_id": str(station_ids[k]),
            "offered_kg_per_day": round(float(produce.offered_kg[k]), 1),
            "collected_kg_per_day": round(float(produce.collected_kg[k]), 1),
            "left_kg_per_day": round(float(left[k]), 1),
            "reason": why,
            "detail": produce.detail[k],
        })
    top_kg, top_share = peak_load(delivery)
    multiplier = float(config.demand.produce_multiplier.get(config.scenario, 1.0))
    return {
        "pickup_produce": bool(config.routing.pickup_produce),
        "produce_multiplier": multiplier,
        "parcel_kg": float(config.routing.parcel_kg),
        "offered_kg_per_day": round(offered, 1),
        "collected_kg_per_day": round(collected, 1),
        "left_behind_kg_per_day": round(float(left.sum()), 1),
        "collected_share": round(collected / offered, 4) if offered > 0 else 1.0,
        "left_behind_by_reason_kg_per_day": {k: round(v, 1) for k, v in by_reason.items()},
        "stations_left_behind": stations,
        "max_load_kg": round(top_kg, 1),
        "max_load_share_of_capacity_kg": (
            None if top_share is None or not math.isfinite(top_share) else round(top_share, 4)
        ),
    }


def produce_text(section: ProduceSection) -> str:
    """One line for the CLI summary."""
    offered = section["offered_kg_per_day"]
    if offered <= 0:
        return "produce: none offered in this scenario"
    text = (
        f"produce: collected {section['collected_kg_per_day']:,.1f} of {offered:,.1f} kg/day "
        f"({section['collected_share']:.1%})"
    )
    left = section["left_behind_kg_per_day"]
    if left > 0:
        parts = [f"{key.replace('_', ' ')} {kg:,.1f}"
                 for key, kg in section["left_behind_by_reason_kg_per_day"].items() if kg > 0]
        text += f", left behind {left:,.1f} kg/day ({', '.join(parts)})"
    text += f"; heaviest load on board {section['max_load_kg']:,.1f} kg"
    share = section["max_load_share_of_capacity_kg"]
    if share is not None:
        text += f", fullest trip at {share:.0%} of its capacity_kg"
    return text
