"""A region's files → :class:`RegionData` in one projected working CRS.

Every layer is read and checked even when an earlier one failed, so that one run reports
all problems of all files; warnings (roads at a guessed speed, a stretching CRS, villages
at the same point, Shapefile names restored) travel with the data as
:attr:`RegionData.warnings`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS
from pyproj.exceptions import CRSError

from rural_logistics.config import RegionConfig
from rural_logistics.errors import ConfigError, InputDataError
from rural_logistics.io.checks import coincident_village_notes, scale_check
from rural_logistics.io.formats import MAX_LINES_PER_CHECK, WGS84, read_layer
from rural_logistics.io.layers import (
    build_candidate_sites,
    point_names,
    read_points,
    read_roads,
    read_villages,
    to_crs,
)
from rural_logistics.io.station_terms import town_terms_notes
from rural_logistics.text import ids_text


@dataclass(frozen=True)
class RegionData:
    """All input layers of a region, validated and in ``crs``.

    Attributes
    ----------
    crs
        The projected working CRS (metres), as an authority string or WKT.
    villages
        ``village_id, name, township, population, households, existing_station,
        produce_kg_per_day, geometry`` (Point).
    roads
        ``road_class, speed_kph, oneway, geometry`` (LineString, one row per part; a
        one-way line runs in its direction of travel). Empty without road data
        (``network.mode`` ``straight_line`` or ``matrix``).
    depots
        ``depot_id, name, geometry`` (Point).
    sites
        Candidate station sites: ``site_id, name, township, village_id`` (the village
        the site belongs to, or ``None``), ``existing`` (bool), the per-station terms
        ``tw_open_min, tw_close_min, service_time_min, unserved_penalty_per_parcel``
        (NaN: the config default), ``geometry`` (Point).
    townships
        Optional boundary polygons with ``name``.
    warnings
        What the data means that the planner should know (one line each).
    travel_matrix
        ``network.mode: matrix``: the rows ``origin, destination, km, min``.
    """

    crs: str
    villages: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    depots: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    townships: gpd.GeoDataFrame | None
    warnings: tuple[str, ...] = ()
    travel_matrix: pd.DataFrame | None = None


def resolve_crs(setting: str, villages_wgs84: gpd.GeoDataFrame) -> str:
    """Choose the working CRS.

    Parameters
    ----------
    setting
        ``"auto"`` for the local UTM zone of the villages, else any CRS pyproj accepts.
    villages_wgs84
        The village layer in WGS 84, used for ``auto``.

    Returns
    -------
    str
        An ``AUTHORITY:CODE`` string where possible.

    Raises
    ------
    ConfigError
        If the CRS is unknown or geographic (degrees cannot measure distances).
    InputDataError
        ``auto`` with village coordinates that are not longitude/latitude (metres in a
        layer labelled EPSG:4326).
    """
    if setting.strip().lower() == "auto":
        try:
            crs = villages_wgs84.estimate_utm_crs()
        except RuntimeError:
            raise InputDataError(
                "region.crs: auto: cannot find the UTM zone of the villages: their "
                "coordinates are not longitude/latitude"
            ) from None
    else:
        try:
            crs = CRS.from_user_input(setting)
        except CRSError:
            raise ConfigError(f"region.crs: unknown CRS {setting!r}") from None
        if not crs.is_projected:
            raise ConfigError(
                f"region.crs: {setting!r} is not a projected CRS in metres "
                "(use 'auto' or a UTM zone such as EPSG:32649)"
            )
    authority = crs.to_authority()
    return f"{authority[0]}:{authority[1]}" if authority else crs.to_wkt()


def _lonlat_problems(wgs84: gpd.GeoDataFrame, source_crs: object, path: Path,
                     labels: np.ndarray) -> list[str]:
    """Points whose WGS 84 coordinates are not on the globe: the layer's CRS is wrong
    (e.g. metres in a layer labelled EPSG:4326). Same message as a failed projection."""
    present = wgs84.geometry.notna() & ~wgs84.geometry.is_empty
    x = wgs84.geometry.x.where(present)
    y = wgs84.geometry.y.where(present)
    bad = (present & ~(x.between(-180, 180) & y.between(-90, 90))).to_numpy()
    if not bad.any():
        return []
    shown = ids_text(labels[bad], limit=MAX_LINES_PER_CHECK)
    crs_text = getattr(source_crs, "to_string", lambda: str(source_crs))()
    return [
        f"{path}: {shown}: coordinates cannot be projected from the layer's CRS "
        f"{crs_text} to longitude/latitude (out of range for that CRS: wrong CRS, or x/y "
        "swapped?)"
    ]


def _guarded(
    read: Callable[[], gpd.GeoDataFrame | None], problems: list[str]
) -> gpd.GeoDataFrame | None:
    """Run one layer reader; a file that cannot be read at all becomes a problem line."""
    try:
        return read()
    except InputDataError as exc:
        problems.extend(exc.problems)
        return None


def _guarded_crs(setting: str, villages_wgs84: gpd.GeoDataFrame, problems: list[str]) -> str | None:
    """:func:`resolve_crs`, with an unusable setting recorded as a problem."""
    try:
        return resolve_crs(setting, villages_wgs84)
    except (ConfigError, InputDataError) as exc:
        problems.extend(exc.problems)
        return None


def _no_roads(crs: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"road_class": pd.Series([], dtype=object), "speed_kph": pd.Series([], dtype=float),
         "oneway": pd.Series([], dtype=bool)},
        geometry=gpd.GeoSeries([], crs=crs), crs=crs,
    )


def read_travel_matrix(path: Path, problems: list[str]) -> pd.DataFrame | None:
    """``data.travel_matrix``: a CSV with ``origin, destination, km, min`` (ids of villages,
    towns, candidate sites or depots; km and minutes > 0)."""
    if not path.exists():
        problems.append(f"{path}: file not found")
        return None
    try:
        frame = pd.read_csv(path, encoding="utf-8", dtype={"origin": str, "destination": str})
    except UnicodeDecodeError:
        problems.append(f"{path}: not UTF-8 text")
        return None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else "empty file"
        problems.append(f"{path}: cannot read as CSV ({first})")
        return None
    missing = [c for c in ("origin", "destination", "km", "min") if c not in frame.columns]
    if missing:
        problems.append(f"{path}: missing column(s) {', '.join(missing)} (expected origin, "
                        "destination, km, min)")
        return None
    km = pd.to_numeric(frame["km"], errors="coerce")
    minutes = pd.to_numeric(frame["min"], errors="coerce")
    same = frame["origin"].astype(str) == frame["destination"].astype(str)
    bad = ~same & ~((km > 0) & (minutes > 0) & np.isfinite(km) & np.isfinite(minutes))
    for k in np.flatnonzero(bad.to_numpy())[:MAX_LINES_PER_CHECK]:
        problems.append(
            f"{path}: row {k + 2} ({frame['origin'].iloc[k]} → {frame['destination'].iloc[k]}): "
            "km and min must be numbers > 0"
        )
    if bad.sum() > MAX_LINES_PER_CHECK:
        problems.append(f"{path}: and {int(bad.sum()) - MAX_LINES_PER_CHECK} more bad rows")
    if bad.any():
        return None
    return pd.DataFrame({"origin": frame["origin"].astype(str).str.strip(),
                         "destination": frame["destination"].astype(str).str.strip(),
                         "km": km, "min": minutes})[~same.to_numpy()].reset_index(drop=True)


def read_region(config: RegionConfig) -> RegionData:
    """Read and validate every input layer of a region.

    Every layer is read and checked even when an earlier one failed, so that one run
    reports all problems of all files.

    Parameters
    ----------
    config
        The validated region config (paths already absolute).

    Returns
    -------
    RegionData
        All layers in the working projected CRS.

    Raises
    ------
    InputDataError
        Listing every problem found across the files.
    ConfigError
        If the configured CRS is unusable.
    """
    data = config.data
    problems: list[str] = []
    notes: list[str] = []
    columns = config.routing.columns
    sites_path = data.candidate_sites
    villages = _guarded(lambda: read_villages(
        data, problems, notes, columns=columns, station_terms=sites_path is None), problems)
    if villages is not None and villages.crs is None:
        problems.append(
            f"{data.villages}: layer has no CRS (save it with a CRS, e.g. EPSG:4326)"
        )
        villages = None
    crs: str | None = None
    if villages is not None and not problems:
        labels = np.array([f"village {v}" for v in villages["village_id"]])
        wgs84 = to_crs(villages, WGS84, data.villages, problems, labels)
        if not problems:
            problems.extend(_lonlat_problems(wgs84, villages.crs, data.villages, labels))
        if not problems:
            crs = _guarded_crs(config.region.crs, wgs84, problems)
        if crs is not None:
            scale_problems, scale_notes = scale_check(
                crs, wgs84, data.villages, config.region.crs
            )
            problems.extend(scale_problems)
            notes.extend(scale_notes)
        villages = to_crs(villages, crs, data.villages, problems, labels) if crs else None
        if villages is not None and villages.crs is not None:
            notes.extend(coincident_village_notes(villages, data.villages))
    else:
        villages = None
    if crs is None:
        # The villages are unusable, so the working CRS is unknown; the other layers are
        # still read and checked (in WGS 84, or the configured CRS) to report their problems.
        setting = config.region.crs.strip()
        crs = WGS84
        if setting.lower() != "auto":
            crs = _guarded_crs(setting, gpd.GeoDataFrame(), problems) or WGS84
    work_crs = crs
    roads_path = data.roads
    if config.network.mode == "roads" and roads_path is not None:
        roads = _guarded(
            lambda: read_roads(roads_path, config.network, work_crs, problems, notes, data),
            problems,
        )
    else:
        roads = _no_roads(work_crs)
    matrix = None
    if config.network.mode == "matrix" and data.travel_matrix is not None:
        matrix = read_travel_matrix(data.travel_matrix, problems)
    depots = _guarded(
        lambda: read_points(data.depots, data, work_crs, "depot", problems, "depots", notes),
        problems,
    )
    towns_path = data.towns
    towns = (
        _guarded(lambda: read_points(towns_path, data, work_crs, "town", problems, "towns",
                                      notes, columns=columns, terms_required=False), problems)
        if towns_path is not None
        else None
    )
    explicit = (
        _guarded(lambda: read_points(sites_path, data, work_crs, "site", problems,
                                      "candidate_sites", notes, columns=columns), problems)
        if sites_path is not None
        else None
    )
    townships = None
    if data.townships is not None:
        townships_path = data.townships
        raw = _guarded(lambda: read_layer(
            townships_path, layer=data.layers.get("townships"), key="townships",
            coordinate_system=data.roads_coordinate_system), problems)
        if raw is not None:
            townships = to_crs(raw, crs, data.townships, problems)
            column = data.name_col if data.name_col in townships.columns else "name"
            names = (
                point_names(townships, column, pd.Series([""] * len(townships)))
                if column in townships.columns else ""
            )
            townships = gpd.GeoDataFrame(
                {"name": names}, geometry=townships.geometry.to_numpy(), crs=townships.crs
            )
    if problems or villages is None or roads is None or depots is None:
        raise InputDataError(problems)
    sites = build_candidate_sites(villages, towns, explicit)
    if explicit is None and towns is not None and towns_path is not None:
        notes.extend(town_terms_notes(villages, towns, towns_path))
    dupes = sorted(set(sites["site_id"][sites["site_id"].duplicated()]))
    if dupes:
        raise InputDataError(
            f"candidate site id(s) {', '.join(dupes[:10])} appear twice "
            "(a town id equals a village id?)"
        )
    depots = depots.rename(columns={"id": "depot_id"})[["depot_id", "name", "geometry"]]
    return RegionData(
        crs=crs,
        villages=villages,
        roads=roads,
        depots=depots,
        sites=sites,
        townships=townships,
        warnings=tuple(notes),
        travel_matrix=matrix,
    )


def check_extent(region: RegionData) -> list[str]:
    """Return warnings for points suspiciously far from the village cloud (swapped lon/lat)."""
    xs = region.villages.geometry.x.to_numpy()
    ys = region.villages.geometry.y.to_numpy()
    span = max(float(np.ptp(xs)), float(np.ptp(ys)), 1000.0)
    cx, cy = float(np.median(xs)), float(np.median(ys))
    notes = []
    for _, row in region.depots.iterrows():
        far = math.hypot(row.geometry.x - cx, row.geometry.y - cy)
        if far > 3 * span:
            notes.append(
                f"depot {row['depot_id']} is {far / 1000:.0f} km from the villages "
                "(lon/lat swapped or a different CRS?)"
            )
    return notes
