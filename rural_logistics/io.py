"""Input files → GeoDataFrames in one projected CRS.

Supported formats: GeoPackage (``.gpkg``), GeoJSON (``.geojson``/``.json``), Shapefile
(``.shp``) and CSV with longitude/latitude columns (WGS 84). Every layer is checked
against the data contract in the README; all problems are collected and raised together
as one :class:`~rural_logistics.errors.InputDataError`, one line each naming the file
and the row id or column at fault.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from rural_logistics.config import DataSettings, NetworkSettings, RegionConfig
from rural_logistics.errors import ConfigError, InputDataError

WGS84 = "EPSG:4326"
_VECTOR_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp"}
#: At most this many lines per kind of problem and file; the rest are counted.
MAX_LINES_PER_CHECK = 10
#: Largest population accepted for one village (guards the solvers' integer scaling).
MAX_VILLAGE_POPULATION = 10_000_000
#: Fastest road speed accepted in a data file, km/h.
MAX_SPEED_KPH = 300.0
#: Largest farm produce accepted for one village, kg per day.
MAX_PRODUCE_KG_PER_DAY = 10_000_000


def _more(problems: list[str], path: Path, count: int, what: str) -> None:
    """Add a line counting the problems of one kind that were not listed one by one."""
    if count > MAX_LINES_PER_CHECK:
        problems.append(f"{path}: and {count - MAX_LINES_PER_CHECK} more {what}")


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
        ``road_class, speed_kph, geometry`` (LineString, one row per part).
    depots
        ``depot_id, name, geometry`` (Point).
    sites
        Candidate station sites: ``site_id, name, township, village_id`` (the village
        the site belongs to, or ``None``), ``existing`` (bool), ``geometry`` (Point).
    townships
        Optional boundary polygons with ``name``.
    """

    crs: str
    villages: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    depots: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    townships: gpd.GeoDataFrame | None


def read_layer(
    path: Path, *, lon_column: str = "lon", lat_column: str = "lat"
) -> gpd.GeoDataFrame:
    """Read one vector layer or lon/lat CSV.

    Parameters
    ----------
    path
        The file. The format is taken from the suffix.
    lon_column, lat_column
        Coordinate column names for CSV files (WGS 84 degrees).

    Returns
    -------
    geopandas.GeoDataFrame
        In the file's own CRS (WGS 84 for CSV).

    Raises
    ------
    InputDataError
        Naming the file when it is missing, unreadable or of an unknown format.
    """
    if not path.exists():
        raise InputDataError(f"{path}: file not found")
    if path.is_dir():
        raise InputDataError(f"{path}: is a folder, expected a data file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv_points(path, lon_column=lon_column, lat_column=lat_column)
    if suffix not in _VECTOR_SUFFIXES:
        raise InputDataError(
            f"{path}: unsupported format {suffix or '(no suffix)'}; "
            "use .gpkg, .geojson, .shp or .csv"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gdf = gpd.read_file(path, engine="pyogrio")
    except (
        pyogrio.errors.DataSourceError,
        pyogrio.errors.DataLayerError,
        pyogrio.errors.FeatureError,
        pyogrio.errors.FieldError,
        pyogrio.errors.GeometryError,
        pyogrio.errors.CRSError,
        shapely.errors.ShapelyError,  # e.g. a line with one point
    ) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputDataError(f"{path}: cannot read as {suffix[1:]} ({first})") from None
    except UnicodeDecodeError:
        raise InputDataError(f"{path}: not UTF-8 text") from None
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise InputDataError(f"{path}: has no geometry column")
    return gdf


def _read_csv_points(path: Path, *, lon_column: str, lat_column: str) -> gpd.GeoDataFrame:
    try:
        frame = pd.read_csv(path, encoding="utf-8", dtype={"id": str})
    except UnicodeDecodeError:
        raise InputDataError(f"{path}: not UTF-8 text") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else "empty file"
        raise InputDataError(f"{path}: cannot read as CSV ({first})") from None
    missing = [c for c in (lon_column, lat_column) if c not in frame.columns]
    if missing:
        raise InputDataError(
            f"{path}: missing coordinate column(s) {', '.join(missing)} "
            f"(set data.lon_column / data.lat_column)"
        )
    lon = pd.to_numeric(frame[lon_column], errors="coerce")
    lat = pd.to_numeric(frame[lat_column], errors="coerce")
    problems = []
    ids = _row_labels(frame)
    missing_xy = lon.isna() | lat.isna()
    bad = missing_xy | ~lon.between(-180, 180) | ~lat.between(-90, 90)
    swapped = bad & ~missing_xy & lon.between(-90, 90) & lat.between(-180, 180)
    for label, is_missing, is_swapped in list(
        zip(ids[bad.to_numpy()], missing_xy[bad], swapped[bad], strict=True)
    )[:MAX_LINES_PER_CHECK]:
        if is_missing:
            what = "missing or not a number"
        elif is_swapped:
            what = f"out of range; {lon_column} and {lat_column} look swapped"
        else:
            what = "out of range"
        problems.append(
            f"{path}: {label}: {lon_column}/{lat_column} {what} "
            "(expected longitude -180..180 and latitude -90..90, WGS 84 degrees)"
        )
    _more(problems, path, int(bad.sum()), "rows with bad coordinates")
    if problems:
        raise InputDataError(problems)
    geometry = gpd.points_from_xy(lon, lat)
    return gpd.GeoDataFrame(
        frame.drop(columns=[lon_column, lat_column]), geometry=geometry, crs=WGS84
    )


def _row_labels(frame: pd.DataFrame) -> np.ndarray:
    if "id" in frame.columns:
        return np.array([f"id {v}" for v in frame["id"].astype(str)])
    return np.array([f"row {i + 1}" for i in range(len(frame))])


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
    """
    if setting.strip().lower() == "auto":
        crs = villages_wgs84.estimate_utm_crs()
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


def _to_crs(
    gdf: gpd.GeoDataFrame,
    crs: str,
    path: Path,
    problems: list[str],
    labels: np.ndarray | None = None,
) -> gpd.GeoDataFrame:
    """Reproject; a missing CRS or coordinates that cannot be projected are problems.

    Returns the layer unchanged (its ``crs`` still ``None``) when it has no CRS.
    """
    if gdf.crs is None:
        problems.append(f"{path}: layer has no CRS (save it with a CRS, e.g. EPSG:4326)")
        return gdf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = gdf.to_crs(crs)
    values = out.geometry.to_numpy()
    present = ~(out.geometry.isna().to_numpy() | out.geometry.is_empty.to_numpy())
    if present.any():
        coords, index = shapely.get_coordinates(values[present], return_index=True)
        finite = np.ones(int(present.sum()), dtype=bool)
        np.logical_and.at(finite, index, np.isfinite(coords).all(axis=1))
        bad = np.flatnonzero(present)[~finite]
        if len(bad):
            names = labels if labels is not None else np.array([f"row {i + 1}" for i in
                                                                range(len(gdf))])
            shown = ", ".join(str(x) for x in names[bad][:MAX_LINES_PER_CHECK])
            more = f" and {len(bad) - MAX_LINES_PER_CHECK} more" if len(bad) > 10 else ""
            problems.append(
                f"{path}: {shown}{more}: coordinates cannot be projected from the layer's "
                f"CRS {gdf.crs.to_string()} to {crs} (out of range for that CRS: "
                "wrong CRS, or x/y swapped?)"
            )
    return out


def _check_columns(
    gdf: gpd.GeoDataFrame, path: Path, required: tuple[str, ...], problems: list[str]
) -> bool:
    missing = [c for c in required if c not in gdf.columns]
    if missing:
        have = ", ".join(c for c in gdf.columns if c != gdf.geometry.name) or "none"
        problems.append(f"{path}: missing column(s) {', '.join(missing)} (has: {have})")
        return False
    return True


def _check_geometry(
    gdf: gpd.GeoDataFrame,
    path: Path,
    labels: np.ndarray,
    allowed: tuple[str, ...],
    problems: list[str],
) -> np.ndarray:
    """Return a boolean mask of usable rows; record problems for the others."""
    geoms = gdf.geometry
    empty = geoms.isna().to_numpy() | geoms.is_empty.to_numpy()
    kinds = np.asarray(geoms.geom_type.to_numpy(), dtype=object)
    wrong = ~empty & ~np.isin(kinds, allowed)
    ok_kind = ~empty & ~wrong
    values = geoms.to_numpy()
    invalid = np.zeros(len(gdf), dtype=bool)
    if ok_kind.any():
        coords, index = shapely.get_coordinates(values[ok_kind], return_index=True)
        finite = np.ones(int(ok_kind.sum()), dtype=bool)
        np.logical_and.at(finite, index, np.isfinite(coords).all(axis=1))
        valid = shapely.is_valid(values[ok_kind]) & finite
        invalid[np.flatnonzero(ok_kind)[~valid]] = True
    for label in labels[empty][:MAX_LINES_PER_CHECK]:
        problems.append(f"{path}: {label}: empty or missing geometry")
    _more(problems, path, int(empty.sum()), "empty or missing geometries")
    for label, kind in list(zip(labels[wrong], kinds[wrong], strict=True))[:MAX_LINES_PER_CHECK]:
        problems.append(f"{path}: {label}: geometry is {kind}, expected {' or '.join(allowed)}")
    _more(problems, path, int(wrong.sum()), f"geometries that are not {' or '.join(allowed)}")
    for label, geom in list(zip(labels[invalid], values[invalid], strict=True))[
        :MAX_LINES_PER_CHECK
    ]:
        reason = shapely.is_valid_reason(geom)
        if reason == "Valid Geometry":
            reason = "coordinates are not finite numbers"
        problems.append(f"{path}: {label}: invalid geometry ({reason})")
    _more(problems, path, int(invalid.sum()), "invalid geometries")
    return ~(empty | wrong | invalid)


def _truthy(values: pd.Series) -> pd.Series:
    if values.dtype == bool:
        return values
    text = values.astype(str).str.strip().str.lower()
    return text.isin({"true", "1", "yes", "y", "t"})


def _read_villages(
    data: DataSettings, problems: list[str]
) -> gpd.GeoDataFrame | None:
    path = data.villages
    gdf = read_layer(path, lon_column=data.lon_column, lat_column=data.lat_column)
    if len(gdf) == 0:
        problems.append(f"{path}: no villages in the layer")
        return None
    if not _check_columns(gdf, path, ("id", "population"), problems):
        return None
    ids = gdf["id"].astype(object).where(gdf["id"].notna(), "").astype(str).str.strip()
    labels = np.array([f"village {v}" for v in ids])
    dupes = sorted(set(ids[ids.duplicated()]))
    if dupes:
        problems.append(f"{path}: duplicate village id(s): {', '.join(dupes[:10])}")
    blank = ids.isin(["", "nan", "None", "<NA>"])
    if blank.any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(blank.to_numpy())[:10])
        problems.append(f"{path}: empty village id in feature(s) {rows} (counting from 1)")
    population = pd.to_numeric(gdf["population"], errors="coerce")
    bad_pop = (
        population.isna()
        | (population < 0)
        | (population > MAX_VILLAGE_POPULATION)
        | ~np.isfinite(population.fillna(0))
    )
    for label, value in list(zip(labels[bad_pop.to_numpy()], gdf["population"][bad_pop],
                                 strict=True))[:MAX_LINES_PER_CHECK]:
        problems.append(
            f"{path}: {label}: population must be a number from 0 to "
            f"{MAX_VILLAGE_POPULATION:,} (got {value!r})"
        )
    _more(problems, path, int(bad_pop.sum()), "villages with a bad population")
    if not bad_pop.any() and population.sum() <= 0:
        problems.append(f"{path}: total population is 0; nothing to serve")
    _check_geometry(gdf, path, labels, ("Point",), problems)
    produce = (
        pd.to_numeric(gdf["produce_kg_per_day"], errors="coerce")
        if "produce_kg_per_day" in gdf.columns
        else pd.Series(0.0, index=gdf.index)
    )
    bad_produce = produce.isna() | (produce < 0) | (produce > MAX_PRODUCE_KG_PER_DAY)
    if "produce_kg_per_day" in gdf.columns:
        for label in labels[bad_produce.to_numpy()][:MAX_LINES_PER_CHECK]:
            problems.append(
                f"{path}: {label}: produce_kg_per_day must be a number from 0 to "
                f"{MAX_PRODUCE_KG_PER_DAY:,}"
            )
        _more(problems, path, int(bad_produce.sum()), "villages with bad produce_kg_per_day")
    out = gpd.GeoDataFrame(
        {
            "village_id": ids,
            "name": gdf["name"].astype(str) if "name" in gdf.columns else ids,
            "township": gdf["township"].astype(str) if "township" in gdf.columns else "",
            "population": population.fillna(0).to_numpy(dtype=float),
            "households": pd.to_numeric(gdf["households"], errors="coerce").to_numpy()
            if "households" in gdf.columns
            else np.nan,
            "existing_station": _truthy(gdf["existing_station"]).to_numpy()
            if "existing_station" in gdf.columns
            else False,
            "produce_kg_per_day": produce.fillna(0).clip(lower=0).to_numpy(dtype=float),
        },
        geometry=gdf.geometry.to_numpy(),
        crs=gdf.crs,
    )
    return out


def _read_roads(
    path: Path, network: NetworkSettings, crs: str, problems: list[str]
) -> gpd.GeoDataFrame | None:
    gdf = read_layer(path)
    if len(gdf) == 0:
        problems.append(f"{path}: no roads in the layer")
        return None
    labels = np.array(
        [f"road {v}" for v in (gdf["road_id"] if "road_id" in gdf.columns else gdf.index)]
    )
    usable = _check_geometry(gdf, path, labels, ("LineString", "MultiLineString"), problems)
    gdf = _to_crs(gdf, crs, path, problems, labels)
    if gdf.crs is None:
        return None
    gdf = gdf[usable]
    speeds = pd.Series(network.default_speed_kph, index=gdf.index, dtype=float)
    if network.road_class_column in gdf.columns:
        classes = gdf[network.road_class_column].astype(str).str.strip().str.lower()
        by_class = {k.lower(): v for k, v in network.speed_kph_by_class.items()}
        speeds = classes.map(by_class).fillna(network.default_speed_kph).astype(float)
    else:
        classes = pd.Series("", index=gdf.index)
    if network.speed_column in gdf.columns:
        given = pd.to_numeric(gdf[network.speed_column], errors="coerce")
        bad = given.notna() & ((given <= 0) | (given > MAX_SPEED_KPH))
        for label in labels[usable][bad.to_numpy()][:MAX_LINES_PER_CHECK]:
            problems.append(
                f"{path}: {label}: {network.speed_column} must be > 0 and at most "
                f"{MAX_SPEED_KPH:g} km/h (or empty for the class speed)"
            )
        _more(problems, path, int(bad.sum()), f"roads with a bad {network.speed_column}")
        # Below 1 km/h a road is as good as closed: the class speed is used instead.
        speeds = given.where((given >= 1) & (given <= MAX_SPEED_KPH)).fillna(speeds)
    roads = gpd.GeoDataFrame(
        {"road_class": classes.to_numpy(), "speed_kph": speeds.to_numpy()},
        geometry=gdf.geometry.to_numpy(),
        crs=crs,
    )
    return roads.explode(index_parts=False).reset_index(drop=True)


def _read_points(
    path: Path,
    data: DataSettings,
    crs: str,
    what: str,
    problems: list[str],
) -> gpd.GeoDataFrame | None:
    gdf = read_layer(path, lon_column=data.lon_column, lat_column=data.lat_column)
    if len(gdf) == 0:
        problems.append(f"{path}: no {what}s in the layer")
        return None
    if not _check_columns(gdf, path, ("id",), problems):
        return None
    ids = gdf["id"].astype(object).where(gdf["id"].notna(), "").astype(str).str.strip()
    dupes = sorted(set(ids[ids.duplicated()]))
    if dupes:
        problems.append(f"{path}: duplicate {what} id(s): {', '.join(dupes[:10])}")
    blank = ids.isin(["", "nan", "None", "<NA>"])
    if blank.any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(blank.to_numpy())[:10])
        problems.append(f"{path}: empty {what} id in feature(s) {rows}")
    labels = np.array([f"{what} {v}" for v in ids])
    usable = _check_geometry(gdf, path, labels, ("Point",), problems)
    gdf = _to_crs(gdf, crs, path, problems, labels)
    if gdf.crs is None or not usable.all():
        return None
    return gpd.GeoDataFrame(
        {
            "id": ids.to_numpy(),
            "name": gdf["name"].astype(str).to_numpy() if "name" in gdf.columns else ids,
            "township": gdf["township"].astype(str).to_numpy()
            if "township" in gdf.columns
            else "",
        },
        geometry=gdf.geometry.to_numpy(),
        crs=crs,
    )


def build_candidate_sites(
    villages: gpd.GeoDataFrame,
    towns: gpd.GeoDataFrame | None,
    explicit: gpd.GeoDataFrame | None,
) -> gpd.GeoDataFrame:
    """Candidate station sites.

    Parameters
    ----------
    villages
        Village layer (``village_id, name, township, existing_station``).
    towns
        Township seats, or ``None``.
    explicit
        A candidate-site layer from the config; when given it replaces the default.

    Returns
    -------
    geopandas.GeoDataFrame
        ``site_id, name, township, village_id, existing, geometry``. By default every
        village (site id = village id) plus every township seat.
    """
    if explicit is not None:
        frame = explicit.rename(columns={"id": "site_id"}).copy()
        frame["village_id"] = None
        frame["existing"] = False
        return frame[["site_id", "name", "township", "village_id", "existing", "geometry"]]
    parts = [
        gpd.GeoDataFrame(
            {
                "site_id": villages["village_id"].to_numpy(),
                "name": villages["name"].to_numpy(),
                "township": villages["township"].to_numpy(),
                "village_id": villages["village_id"].to_numpy(),
                "existing": villages["existing_station"].to_numpy(dtype=bool),
            },
            geometry=villages.geometry.to_numpy(),
            crs=villages.crs,
        )
    ]
    if towns is not None:
        parts.append(
            gpd.GeoDataFrame(
                {
                    "site_id": towns["id"].to_numpy(),
                    "name": towns["name"].to_numpy(),
                    "township": towns["township"].to_numpy(),
                    "village_id": None,
                    "existing": False,
                },
                geometry=towns.geometry.to_numpy(),
                crs=towns.crs,
            )
        )
    sites = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=villages.crs)
    return sites


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
    except ConfigError as exc:
        problems.extend(exc.problems)
        return None


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
    villages = _guarded(lambda: _read_villages(data, problems), problems)
    if villages is not None and villages.crs is None:
        problems.append(
            f"{data.villages}: layer has no CRS (save it with a CRS, e.g. EPSG:4326)"
        )
        villages = None
    crs: str | None = None
    if villages is not None and not problems:
        labels = np.array([f"village {v}" for v in villages["village_id"]])
        wgs84 = _to_crs(villages, WGS84, data.villages, problems, labels)
        if not problems:
            crs = _guarded_crs(config.region.crs, wgs84, problems)
        villages = _to_crs(villages, crs, data.villages, problems, labels) if crs else None
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
    roads = _guarded(
        lambda: _read_roads(data.roads, config.network, work_crs, problems), problems
    )
    depots = _guarded(
        lambda: _read_points(data.depots, data, work_crs, "depot", problems), problems
    )
    towns_path, sites_path = data.towns, data.candidate_sites
    towns = (
        _guarded(lambda: _read_points(towns_path, data, work_crs, "town", problems), problems)
        if towns_path is not None
        else None
    )
    explicit = (
        _guarded(lambda: _read_points(sites_path, data, work_crs, "site", problems), problems)
        if sites_path is not None
        else None
    )
    townships = None
    if data.townships is not None:
        townships_path = data.townships
        raw = _guarded(lambda: read_layer(townships_path), problems)
        if raw is not None:
            townships = _to_crs(raw, crs, data.townships, problems)
            if "name" not in townships.columns:
                townships = townships.assign(name="")
            townships = townships[["name", townships.geometry.name]]
    if problems or villages is None or roads is None or depots is None:
        raise InputDataError(problems)
    sites = build_candidate_sites(villages, towns, explicit)
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
