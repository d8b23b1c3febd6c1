"""The prepared region: inputs read, roads as a graph, points snapped, demand and access.

:func:`prepare_region` runs four named stages, each a function of its own:

1. :func:`read_inputs` — every data file into one projected CRS (:mod:`rural_logistics.io`);
2. :func:`snap_to_roads` — the road graph, every point snapped onto it, the villages'
   connection to the county distribution centre (DC) checked;
3. :func:`estimate_village_demand` — parcels and produce per village for the scenario;
4. :func:`access_matrices` — village × candidate site travel time and distance.

Everything a solver stage needs before any optimisation is in :class:`PreparedRegion`.
This module reports progress through a callback and never prints.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from scipy.spatial import cKDTree

from rural_logistics import network as net
from rural_logistics.config import NetworkSettings, RegionConfig
from rural_logistics.demand import Demand, estimate_demand
from rural_logistics.errors import InputDataError
from rural_logistics.io import RegionData, check_extent, read_region
from rural_logistics.network_setup import build_graph, network_mode_notes, network_source
from rural_logistics.text import ids_text, plural

#: A progress reporter: called with a stage name, returns a context manager around it.
Progress = Callable[[str], AbstractContextManager[None]]
#: How many far-from-road points are listed one per line before "and N more".
OFFROAD_LIST_LIMIT = 10


@contextlib.contextmanager
def silent(_: str) -> Iterator[None]:
    """A :data:`Progress` that reports nothing."""
    yield


@dataclass(frozen=True)
class PreparedRegion:
    """Everything the solvers need, before any optimisation.

    Attributes
    ----------
    data
        The input layers.
    network
        The road graph with every point snapped.
    villages, sites, depot
        Snap results (``depot`` holds the county distribution centre only).
    site_ok
        Candidate sites reachable from the depot.
    demand
        Parcels and produce per village for the scenario.
    access
        Village × site travel (people reaching a station, off-road legs included).
    warnings
        Problems that did not stop the run.
    """

    data: RegionData
    network: net.RoadNetwork
    villages: net.SnappedPoints
    sites: net.SnappedPoints
    depot: net.SnappedPoints
    site_ok: np.ndarray
    demand: Demand
    access: net.TravelMatrices
    warnings: tuple[str, ...]

    @property
    def village_ids(self) -> list[str]:
        """Village ids, in row order."""
        return [str(v) for v in self.data.villages["village_id"].to_numpy()]

    @property
    def site_ids(self) -> list[str]:
        """Candidate site ids, in row order."""
        return [str(s) for s in self.data.sites["site_id"].to_numpy()]

    @property
    def depot_ids(self) -> list[str]:
        """Depot ids, in row order (the first is the DC)."""
        return [str(d) for d in self.data.depots["depot_id"].to_numpy()]


@dataclass(frozen=True)
class SnappedRegion:
    """Stage 2's result: the road graph and the points on it.

    Attributes
    ----------
    network
        The road graph (with connector links when ``network.disconnected: connect``).
    villages, sites, depot
        Snapped points (``depot``: the DC only).
    site_ok
        Candidate sites on the DC's road piece.
    warnings
        What the stage noticed without stopping.
    """

    network: net.RoadNetwork
    villages: net.SnappedPoints
    sites: net.SnappedPoints
    depot: net.SnappedPoints
    site_ok: np.ndarray
    warnings: tuple[str, ...]


def prepare_region(config: RegionConfig, *, progress: Progress = silent) -> PreparedRegion:
    """Read inputs, build the road graph, snap points, estimate demand and access times.

    Parameters
    ----------
    config
        Validated region config.
    progress
        Stage reporter.

    Returns
    -------
    PreparedRegion

    Raises
    ------
    InputDataError
        For unusable data, including villages cut off from the depot's road network.
    """
    with progress("reading inputs"):
        data, read_warnings = read_inputs(config)
    mode = config.network.mode
    with progress("building the road network" if mode == "roads"
                  else f"building the {mode.replace('_', ' ')} network"):
        snapped = snap_to_roads(config, data)
    with progress("estimating demand"):
        demand = estimate_village_demand(config, data)
    with progress("computing travel matrices"):
        access = access_matrices(config, data, snapped)
    return PreparedRegion(
        data=data,
        network=snapped.network,
        villages=snapped.villages,
        sites=snapped.sites,
        depot=snapped.depot,
        site_ok=snapped.site_ok,
        demand=demand,
        access=access,
        warnings=(*read_warnings, *snapped.warnings),
    )


def read_inputs(config: RegionConfig) -> tuple[RegionData, list[str]]:
    """Stage 1: every data file, and warnings about the region's extent."""
    data = read_region(config)
    return data, check_extent(data)


def unused_depots(config: RegionConfig, depot_ids: Sequence[str]) -> list[str]:
    """Depots after the first (the distribution centre) that neither a hub candidate
    (``hubs.candidates[].depot_id``) nor a vehicle type (``fleet.vehicles[].depot``) uses."""
    used = {str(v.depot) for v in config.fleet.vehicles if v.depot is not None}
    if config.hubs is not None:
        used |= {c.depot_id for c in config.hubs.candidates}
    return [d for d in depot_ids[1:] if d not in used]


def snap_to_roads(config: RegionConfig, data: RegionData) -> SnappedRegion:
    """Stage 2: the travel network of ``network.mode`` (roads, straight lines or a matrix,
    :func:`rural_logistics.network_setup.build_graph`) with every point snapped; villages
    must reach the DC (both ways on one-way roads).

    Raises
    ------
    InputDataError
        Points too far from any road, or villages on road pieces not connected to the
        DC (with ``network.disconnected: error``), or only one way.
    """
    settings = config.network
    warnings: list[str] = list(data.warnings)
    xy = {
        name: shapely.get_coordinates(layer.geometry.to_numpy())
        for name, layer in (("villages", data.villages), ("sites", data.sites),
                            ("depots", data.depots))
    }
    graph, snapped = build_graph(config, data, xy)
    warnings.extend(network_mode_notes(config))
    dc_id = data.depots["depot_id"].iloc[0]
    unused = unused_depots(config, data.depots["depot_id"].astype(str).tolist())
    if unused:
        warnings.append(
            f"{plural(len(unused), 'depot')} given but not used: {ids_text(unused)} (the first, "
            f"{dc_id}, is the distribution centre; others serve as hubs.candidates[].depot_id "
            "or fleet.vehicles[].depot)"
        )
    depot_all = snapped["depots"]
    depot = net.SnappedPoints(
        node=depot_all.node[:1], offroad_m=depot_all.offroad_m[:1], xy=depot_all.xy[:1]
    )
    if depot.offroad_m[0] > settings.remote_warning_m:
        warnings.append(f"depot {dc_id} is {depot.offroad_m[0]:.0f} m from the nearest road")
    if settings.disconnected == "connect" and settings.mode == "roads":
        graph, added = net.connect_components(
            graph, main_node=int(depot.node[0]), speed_kph=settings.connector_speed_kph
        )
        if added:
            warnings.append(
                f"{added} access link(s) at {settings.connector_speed_kph:g} km/h added to "
                "join road pieces not connected to the depot"
            )
    labels = graph.components()
    main = labels[depot.node[0]]
    problems = offroad_problems(config, data, snapped) if settings.mode == "roads" else []
    problems += _connection_problems(config, data, graph, snapped, labels)
    if problems:
        raise InputDataError(problems)
    site_ok = labels[snapped["sites"].node] == main
    if graph.directed:
        site_ok &= graph.reachable_both_ways(int(depot.node[0]))[snapped["sites"].node]
    if not site_ok.all():
        warnings.append(
            f"{int((~site_ok).sum())} candidate site(s) not reachable from the depot are "
            f"ignored: {ids_text(data.sites['site_id'].to_numpy()[~site_ok])}"
        )
    warnings.extend(_remote_villages(settings, data, snapped["villages"]))
    return SnappedRegion(
        network=graph,
        villages=snapped["villages"],
        sites=snapped["sites"],
        depot=depot,
        site_ok=site_ok,
        warnings=tuple(warnings),
    )


def _connection_problems(
    config: RegionConfig,
    data: RegionData,
    graph: net.RoadNetwork,
    snapped: dict[str, net.SnappedPoints],
    labels: np.ndarray,
) -> list[str]:
    """Villages the DC cannot reach (or, on one-way roads, reach only one way)."""
    dc_id = data.depots["depot_id"].iloc[0]
    depot_node = int(snapped["depots"].node[0])
    village_nodes = snapped["villages"].node
    village_ids = data.villages["village_id"].to_numpy()
    cut = labels[village_nodes] != labels[depot_node]
    if graph.directed and not cut.any():
        one_way_only = ~graph.reachable_both_ways(depot_node)[village_nodes]
        if one_way_only.any():
            return [
                f"{network_source(config)}: {int(one_way_only.sum())} village(s) can be "
                f"reached from depot {dc_id} only one way (one-way roads lead in but not "
                f"out, or out but not in): {ids_text(village_ids[one_way_only])} (check the "
                "oneway values of the roads near them)"
            ]
    if not cut.any():
        return []
    if config.network.mode == "matrix":
        return [
            f"{config.data.travel_matrix}: {int(cut.sum())} village(s) have no travel "
            f"time to or from depot {dc_id}: {ids_text(village_ids[cut])}"
        ]
    return [
        f"{config.data.roads}: {int(cut.sum())} village(s) lie on roads not connected "
        f"to depot {dc_id}: {ids_text(village_ids[cut])} "
        f"(the roads form {len(np.unique(labels))} separate pieces; lines connect "
        "only where they share a vertex: fix the roads, or set "
        "network.disconnected: connect)"
    ]


def _remote_villages(
    settings: NetworkSettings, data: RegionData, villages: net.SnappedPoints
) -> list[str]:
    """A warning naming the villages farther than ``remote_warning_m`` from any road."""
    remote = villages.offroad_m > settings.remote_warning_m
    if not remote.any():
        return []
    detail = [
        f"{vid} ({d / 1000:.1f} km)"
        for vid, d in zip(
            data.villages["village_id"].to_numpy()[remote], villages.offroad_m[remote],
            strict=True,
        )
    ]
    return [
        f"{int(remote.sum())} village(s) farther than {settings.remote_warning_m:g} m "
        f"from any road (reached off-road at {settings.offroad_speed_kph:g} km/h): "
        f"{ids_text(detail)}"
    ]


def estimate_village_demand(config: RegionConfig, data: RegionData) -> Demand:
    """Stage 3: parcels and produce per village for the config's scenario."""
    return estimate_demand(
        data.villages["population"].to_numpy(dtype=float),
        data.villages["produce_kg_per_day"].to_numpy(dtype=float),
        settings=config.demand,
        scenario=config.scenario,
    )


def access_matrices(
    config: RegionConfig, data: RegionData, snapped: SnappedRegion
) -> net.TravelMatrices:
    """Stage 4: village × site travel time and distance (off-road legs included; a site
    at a village is zero from it)."""
    same = (
        data.sites["village_id"].to_numpy()[:, None]
        == data.villages["village_id"].to_numpy()[None, :]
    )
    speed = config.network.offroad_speed_kph
    if snapped.network.directed:  # village → site, the way people travel to a station
        return net.travel_matrices(
            snapped.network, snapped.villages, snapped.sites, offroad_speed_kph=speed,
            same=same.T,
        )
    site_to_village = net.travel_matrices(
        snapped.network, snapped.sites, snapped.villages, offroad_speed_kph=speed, same=same
    )
    return net.TravelMatrices(
        time_min=site_to_village.time_min.T, distance_km=site_to_village.distance_km.T
    )


def offroad_problems(
    config: RegionConfig, data: RegionData, snapped: dict[str, net.SnappedPoints]
) -> list[str]:
    """Villages, depots and extra sites farther than ``network.max_offroad_m`` from a road.

    Such a point is almost always a data error (swapped or wrong coordinates, a layer in
    another CRS, a road missing from the road file) rather than a real village.
    """
    limit = config.network.max_offroad_m
    problems = []
    layers: list[tuple[str, Path, np.ndarray, np.ndarray]] = [
        ("village", config.data.villages, data.villages["village_id"].to_numpy(),
         snapped["villages"].offroad_m),
        ("depot", config.data.depots, data.depots["depot_id"].to_numpy(),
         snapped["depots"].offroad_m),
    ]
    extra = data.sites["village_id"].isna().to_numpy()
    site_path = config.data.candidate_sites or config.data.towns
    if extra.any() and site_path is not None:
        what = "site" if config.data.candidate_sites else "town"
        layers.append((what, site_path, data.sites["site_id"].to_numpy()[extra],
                       snapped["sites"].offroad_m[extra]))
    village_far = snapped["villages"].offroad_m > limit
    if len(village_far) > 1 and village_far.all():
        km = snapped["villages"].offroad_m / 1000
        return [
            f"{config.data.villages}: all {len(km)} villages are {km.min():.1f} to "
            f"{km.max():.1f} km from the nearest road in {config.data.roads}, more than "
            f"network.max_offroad_m = {limit:g} m: the two layers do not overlap (a layer "
            "in a different or wrong CRS, or swapped coordinates?)"
        ]
    for what, path, ids, offroad in layers:
        far = np.flatnonzero(offroad > limit)
        for k in far[:OFFROAD_LIST_LIMIT]:
            problems.append(
                f"{path}: {what} {ids[k]}: {offroad[k] / 1000:.1f} km from the nearest road, "
                f"more than network.max_offroad_m = {limit:g} m (wrong coordinates or CRS, "
                f"or a road missing from {getattr(config.data.roads, 'name', 'the roads')}?)"
            )
        if len(far) > OFFROAD_LIST_LIMIT:
            problems.append(
                f"{path}: and {len(far) - OFFROAD_LIST_LIMIT} more {what}s far from roads"
            )
    return problems


def village_weights(config: RegionConfig, prepared: PreparedRegion) -> np.ndarray:
    """Weight of each village in placement (``placement.weight``: population or parcels)."""
    if config.placement.weight == "population":
        return prepared.data.villages["population"].to_numpy(dtype=float)
    return prepared.demand.parcels_per_day


def depot_nodes(prepared: PreparedRegion, rows: Sequence[int]) -> list[int]:
    """Graph node of each depot row (row 0: the snapped county distribution centre).

    Every depot was snapped when the graph was built, and the foot of its perpendicular
    is the graph node closest to it.
    """
    out = []
    xy = shapely.get_coordinates(prepared.data.depots.geometry.to_numpy())
    tree = None
    for row in rows:
        if row == 0:
            out.append(int(prepared.depot.node[0]))
            continue
        if tree is None:
            tree = cKDTree(prepared.network.node_xy)
        out.append(int(tree.query(xy[row])[1]))
    return out


def depot_row(prepared: PreparedRegion, depot_id: str) -> int:
    """Row of a depot id in the depots layer (the id must exist: checked by validation)."""
    ids = prepared.depot_ids
    assert depot_id in ids, f"depot {depot_id!r} was not checked against the depots layer"
    return ids.index(depot_id)
