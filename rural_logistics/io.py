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
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from pyproj import CRS
from pyproj.exceptions import CRSError

from rural_logistics.config import DataSettings, NetworkSettings, RegionConfig
from rural_logistics.errors import ConfigError, InputDataError

WGS84 = "EPSG:4326"
_VECTOR_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp"}


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
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
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
    bad = lon.isna() | lat.isna() | ~lon.between(-180, 180) | ~lat.between(-90, 90)
    for label in ids[bad.to_numpy()][:20]:
        problems.append(
            f"{path}: {label}: {lon_column}/{lat_column} missing or out of range "
            "(expected longitude -180..180 and latitude -90..90)"
        )
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


def _to_crs(gdf: gpd.GeoDataFrame, crs: str, path: Path, problems: list[str]) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        problems.append(f"{path}: layer has no CRS (save it with a CRS, e.g. EPSG:4326)")
        return gdf
    return gdf.to_crs(crs)


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
    kinds = geoms.geom_type.to_numpy()
    wrong = ~empty & ~np.isin(kinds, allowed)
    for label in labels[empty][:10]:
        problems.append(f"{path}: {label}: empty or missing geometry")
    for label, kind in list(zip(labels[wrong], kinds[wrong], strict=True))[:10]:
        problems.append(f"{path}: {label}: geometry is {kind}, expected {' or '.join(allowed)}")
    return ~(empty | wrong)


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
    ids = gdf["id"].astype(str).str.strip()
    labels = np.array([f"village {v}" for v in ids])
    dupes = sorted(set(ids[ids.duplicated()]))
    if dupes:
        problems.append(f"{path}: duplicate village id(s): {', '.join(dupes[:10])}")
    blank = ids.isin(["", "nan", "None"])
    if blank.any():
        rows = ", ".join(str(i + 2) for i in np.flatnonzero(blank.to_numpy())[:10])
        problems.append(f"{path}: empty village id in row(s) {rows}")
    population = pd.to_numeric(gdf["population"], errors="coerce")
    bad_pop = population.isna() | (population < 0) | ~np.isfinite(population.fillna(0))
    for label in labels[bad_pop.to_numpy()][:10]:
        problems.append(f"{path}: {label}: population must be a number >= 0")
    if not bad_pop.any() and population.sum() <= 0:
        problems.append(f"{path}: total population is 0; nothing to serve")
    _check_geometry(gdf, path, labels, ("Point",), problems)
    produce = (
        pd.to_numeric(gdf["produce_kg_per_day"], errors="coerce")
        if "produce_kg_per_day" in gdf.columns
        else pd.Series(0.0, index=gdf.index)
    )
    bad_produce = produce.isna() | (produce < 0)
    if "produce_kg_per_day" in gdf.columns:
        for label in labels[bad_produce.to_numpy()][:10]:
            problems.append(f"{path}: {label}: produce_kg_per_day must be a number >= 0")
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
    gdf = _to_crs(gdf, crs, path, problems)
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
        bad = given.notna() & (given <= 0)
        for label in labels[usable][bad.to_numpy()][:10]:
            problems.append(f"{path}: {label}: {network.speed_column} must be > 0")
        speeds = given.where(given > 0).fillna(speeds)
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
    ids = gdf["id"].astype(str).str.strip()
    dupes = sorted(set(ids[ids.duplicated()]))
    if dupes:
        problems.append(f"{path}: duplicate {what} id(s): {', '.join(dupes[:10])}")
    labels = np.array([f"{what} {v}" for v in ids])
    usable = _check_geometry(gdf, path, labels, ("Point",), problems)
    gdf = _to_crs(gdf, crs, path, problems)
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


def read_region(config: RegionConfig) -> RegionData:
    """Read and validate every input layer of a region.

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
    villages = _read_villages(data, problems)
    if villages is None or villages.crs is None:
        if villages is not None:
            problems.append(
                f"{data.villages}: layer has no CRS (save it with a CRS, e.g. EPSG:4326)"
            )
        raise InputDataError(problems)
    if problems:
        raise InputDataError(problems)
    crs = resolve_crs(config.region.crs, villages.to_crs(WGS84))
    villages = villages.to_crs(crs)
    roads = _read_roads(data.roads, config.network, crs, problems)
    depots = _read_points(data.depots, data, crs, "depot", problems)
    towns = _read_points(data.towns, data, crs, "town", problems) if data.towns else None
    explicit = (
        _read_points(data.candidate_sites, data, crs, "site", problems)
        if data.candidate_sites
        else None
    )
    townships = None
    if data.townships is not None:
        raw = read_layer(data.townships)
        townships = _to_crs(raw, crs, data.townships, problems)
        if "name" not in townships.columns:
            townships = townships.assign(name="")
        townships = townships[["name", townships.geometry.name]]
    if problems or roads is None or depots is None:
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
