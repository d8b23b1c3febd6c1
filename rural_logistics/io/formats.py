"""Reading one file: formats, layers of multi-layer files, CSV points, Shapefile column
names cut to 10 characters, and China's offset coordinate systems.

Supported formats: GeoPackage (``.gpkg``), GeoJSON (``.geojson``/``.json``), Shapefile
(``.shp``), CSV with longitude/latitude columns (WGS 84, GCJ-02 or BD-09, see
:mod:`rural_logistics.io.coords`), and OpenStreetMap files for roads
(:mod:`rural_logistics.osm`).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from rural_logistics.errors import InputDataError
from rural_logistics.io.coords import to_wgs84

WGS84 = "EPSG:4326"
VECTOR_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp"}
#: At most this many lines per kind of problem and file; the rest are counted.
MAX_LINES_PER_CHECK = 10
#: Shapefile (dBASE) field names hold at most this many characters.
SHAPEFILE_NAME_LIMIT = 10


def more(problems: list[str], path: Path, count: int, what: str) -> None:
    """Add a line counting the problems of one kind that were not listed one by one."""
    if count > MAX_LINES_PER_CHECK:
        problems.append(f"{path}: and {count - MAX_LINES_PER_CHECK} more {what}")


def _choose_layer(path: Path, layer: str | None, key: str | None) -> str | None:
    """The layer to read: ``layer`` if given (must exist), the only one, else an error."""
    try:
        listed = pyogrio.list_layers(path)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError):
        return layer  # the read below reports the file as unreadable
    names = [str(row[0]) for row in listed]
    setting = f"data.layers.{key}" if key else "data.layers"
    if layer is not None:
        if layer not in names:
            raise InputDataError(
                f"{path}: has no layer {layer!r} ({setting}); its layers: {', '.join(names)}"
            )
        return layer
    if len(names) > 1:
        raise InputDataError(
            f"{path}: has {len(names)} layers ({', '.join(names)}); say which one to read "
            f"with {setting}"
        )
    return names[0] if names else None


def read_layer(
    path: Path,
    *,
    lon_column: str = "lon",
    lat_column: str = "lat",
    layer: str | None = None,
    key: str | None = None,
    coordinate_system: str = "wgs84",
) -> gpd.GeoDataFrame:
    """Read one vector layer or lon/lat CSV.

    Parameters
    ----------
    path
        The file. The format is taken from the suffix.
    lon_column, lat_column
        Coordinate column names for CSV files.
    layer
        The layer of a multi-layer file (GeoPackage); required when it has several.
    key
        The ``data`` key naming this file (for messages: ``data.layers.<key>``).
    coordinate_system
        ``wgs84``, ``gcj02`` or ``bd09``: the system of lon/lat coordinates (CSV, or a
        layer in a geographic CRS); converted to WGS 84.

    Returns
    -------
    geopandas.GeoDataFrame
        In the file's own CRS (WGS 84 for CSV and converted layers).

    Raises
    ------
    InputDataError
        Naming the file when it is missing, unreadable, of an unknown format, has several
        layers and none was chosen, or is projected while ``coordinate_system`` asks for a
        conversion of lon/lat.
    """
    if not path.exists():
        raise InputDataError(f"{path}: file not found")
    if path.is_dir():
        raise InputDataError(f"{path}: is a folder, expected a data file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        gdf = _read_csv_points(path, lon_column=lon_column, lat_column=lat_column)
    elif suffix not in VECTOR_SUFFIXES:
        raise InputDataError(
            f"{path}: unsupported format {suffix or '(no suffix)'}; "
            "use .gpkg, .geojson, .shp or .csv"
            + (" (or an OpenStreetMap .osm.pbf, .osm, .osm.gz, .osm.bz2 for roads)"
               if key == "roads" else "")
        )
    else:
        chosen = _choose_layer(path, layer, key)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                gdf = gpd.read_file(path, engine="pyogrio", layer=chosen)
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
    if coordinate_system != "wgs84":
        gdf = _convert_offset(gdf, path, coordinate_system, key)
    return gdf


def _convert_offset(
    gdf: gpd.GeoDataFrame, path: Path, system: str, key: str | None
) -> gpd.GeoDataFrame:
    """GCJ-02 / BD-09 lon/lat → WGS 84 (every vertex)."""
    setting = "data.roads_coordinate_system" if key in ("roads", "townships") else (
        "data.coordinate_system")
    if gdf.crs is None:
        return gdf  # reported as "layer has no CRS" by the layer checks
    if not gdf.crs.is_geographic:
        raise InputDataError(
            f"{path}: {setting} is {system}, a system of longitude/latitude, but the layer "
            f"is in the projected CRS {gdf.crs.to_string()}; use wgs84 for projected layers"
        )
    if len(gdf) == 0:
        return gdf

    def convert(xy: np.ndarray) -> np.ndarray:
        lon, lat = to_wgs84(xy[:, 0], xy[:, 1], system)
        return np.column_stack([lon, lat])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = shapely.transform(gdf.geometry.to_numpy(), convert)
    return gdf.set_geometry(gpd.GeoSeries(values, index=gdf.index, crs=WGS84), crs=WGS84)


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
    ids = row_labels(frame)
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
    more(problems, path, int(bad.sum()), "rows with bad coordinates")
    if problems:
        raise InputDataError(problems)
    geometry = gpd.points_from_xy(lon, lat)
    return gpd.GeoDataFrame(
        frame.drop(columns=[lon_column, lat_column]), geometry=geometry, crs=WGS84
    )


def row_labels(frame: pd.DataFrame, id_column: str = "id") -> np.ndarray:
    """``id X`` per row where the layer has an id column, else ``row N`` (from 1)."""
    if id_column in frame.columns:
        return np.array([f"id {v}" for v in frame[id_column].astype(str)])
    return np.array([f"row {i + 1}" for i in range(len(frame))])


def restore_shapefile_names(
    gdf: gpd.GeoDataFrame,
    path: Path,
    wanted: Iterable[str],
    problems: list[str],
    notes: list[str],
) -> gpd.GeoDataFrame:
    """Rename Shapefile columns cut to 10 characters back to the names the tool reads.

    A dBASE field name holds 10 characters, so a Shapefile saves ``produce_kg_per_day``
    as ``produce_kg`` and ``existing_station`` as ``existing_s``: without this they would
    be silently missing. Each renamed column is a note; two wanted names cut to the same
    10 characters, or a name cut to another name read, are a problem (which one the column
    holds cannot be told).
    """
    if path.suffix.lower() != ".shp":
        return gdf
    columns = set(gdf.columns)
    wanted = list(dict.fromkeys(wanted))
    by_cut: dict[str, list[str]] = {}
    for name in wanted:
        if len(name) > SHAPEFILE_NAME_LIMIT and name not in columns:
            by_cut.setdefault(name[:SHAPEFILE_NAME_LIMIT], []).append(name)
    renames: dict[str, str] = {}
    for cut, names in by_cut.items():
        if cut not in columns:
            continue
        if cut in wanted:  # e.g. households_2020 cut to households, itself a column read
            names = [*names, cut]
        if len(names) > 1:
            problems.append(
                f"{path}: column {cut!r} is cut to 10 characters (Shapefile limit) and may be "
                f"any of {', '.join(names)}; save the layer as GeoPackage or rename the column"
            )
            continue
        renames[cut] = names[0]
        notes.append(
            f"{path}: column {cut!r} read as {names[0]!r} (Shapefile names are cut to 10 "
            "characters; GeoPackage keeps full names)"
        )
    return gdf.rename(columns=renames) if renames else gdf
