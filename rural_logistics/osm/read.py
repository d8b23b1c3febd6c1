"""Read OpenStreetMap files with GDAL's OSM driver (through pyogrio).

Formats: ``.osm.pbf`` / ``.pbf``, ``.osm`` (XML) and XML compressed as ``.osm.gz`` or
``.osm.bz2`` (decompressed to a temporary file first; GDAL reads neither directly). No
OSM parsing is done here: the driver's ``points``, ``lines`` and ``multipolygons`` layers are
read with a config file (:data:`OSM_CONFIG`) that exposes the tags this tool uses as
columns.

Roads (:func:`read_osm_roads`): drivable ``highway`` ways only, i.e. the keys of the speed
table (:data:`OSM_SPEED_KPH`, overridable); ``access``/``motor_vehicle``/``motorcar``/
``vehicle`` = ``private``, ``no``, ``agricultural`` or ``forestry`` excluded; ``service`` =
``parking_aisle``/``driveway``/``emergency_access`` excluded; ``area=yes`` excluded. The
speed is ``maxspeed × MAXSPEED_FACTOR`` where a numeric ``maxspeed`` is tagged, else the
table's speed for the ``highway`` value. ``oneway=yes/true/1`` (and the implied one-way of
``motorway``, ``motorway_link`` and ``junction=roundabout``) keeps the way's direction;
``oneway=-1/reverse`` reverses the line so that every one-way line runs in its direction of
travel.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import math
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from rural_logistics.errors import InputDataError

WGS84 = "EPSG:4326"

#: File name endings read as OpenStreetMap data.
OSM_SUFFIXES: tuple[str, ...] = (".osm.pbf", ".pbf", ".osm", ".osm.gz", ".osm.bz2")

#: Speed (km/h) by OSM ``highway`` value for ways without a usable ``maxspeed``: the
#: speeds table of the OSRM car profile (``profiles/car.lua``, Project OSRM). A way whose
#: ``highway`` value is not a key here is not a road for vans (footway, path, cycleway,
#: steps, bridleway, pedestrian, construction, …; ``track`` too: add it with a speed,
#: e.g. ``--speed track=15`` or ``network.speed_kph_by_class: {track: 15}``, to use farm
#: tracks).
OSM_SPEED_KPH: dict[str, float] = {
    "motorway": 90.0,
    "motorway_link": 45.0,
    "trunk": 85.0,
    "trunk_link": 40.0,
    "primary": 65.0,
    "primary_link": 30.0,
    "secondary": 55.0,
    "secondary_link": 25.0,
    "tertiary": 40.0,
    "tertiary_link": 20.0,
    "unclassified": 25.0,
    "residential": 25.0,
    "living_street": 10.0,
    "service": 15.0,
    "road": 25.0,
}

#: A tagged ``maxspeed`` is a limit, not the speed driven: the speed used is this share of
#: it (OSRM's car profile uses the same reduction, ``speed_reduction = 0.8``).
MAXSPEED_FACTOR = 0.8

#: Access values that close a way to delivery vans.
CLOSED_ACCESS = frozenset({"private", "no", "agricultural", "forestry"})
#: ``service`` values that are not through roads for vans.
EXCLUDED_SERVICE = frozenset({"parking_aisle", "driveway", "emergency_access"})
#: ``highway`` values that are one-way unless tagged otherwise.
IMPLIED_ONEWAY = frozenset({"motorway", "motorway_link"})

_BASE_SECTION = """osm_id=yes
osm_version=no
osm_timestamp=no
osm_uid=no
osm_user=no
osm_changeset=no
"""

#: The GDAL OSM driver config used for every read (tags exposed as columns).
OSM_CONFIG = f"""[general]
closed_ways_are_polygons=aeroway,amenity,boundary,building,craft,geological,historic,landuse,leisure,military,natural,office,place,shop,sport,tourism,highway=platform,public_transport=platform

[points]
{_BASE_SECTION}attributes=name,name:zh,place,population
ignore=created_by,converted_by,source,time,ele,note,todo,fixme,FIXME

[lines]
{_BASE_SECTION}attributes=name,name:zh,highway,service,maxspeed,oneway,junction,access,motor_vehicle,motorcar,vehicle,area,ref
ignore=created_by,converted_by,source,time,ele,note,todo,fixme,FIXME

[multipolygons]
{_BASE_SECTION}attributes=name,name:zh,type,boundary,admin_level,place,population
ignore=area,created_by,converted_by,source,time,ele,note,todo,fixme,FIXME

[multilinestrings]
{_BASE_SECTION}attributes=name,type

[other_relations]
{_BASE_SECTION}attributes=name,type
"""


def is_osm_file(path: Path) -> bool:
    """Whether ``path`` names an OpenStreetMap file (by its ending)."""
    name = path.name.lower()
    return name.endswith(OSM_SUFFIXES)


@contextlib.contextmanager
def _readable(path: Path) -> Iterator[tuple[Path, Path]]:
    """Yield (a path GDAL's OSM driver reads, the driver config file), in a temp folder."""
    if not path.exists():
        raise InputDataError(f"{path}: file not found")
    if path.is_dir():
        raise InputDataError(f"{path}: is a folder, expected an OpenStreetMap file")
    with tempfile.TemporaryDirectory(prefix="rl-osm-") as tmp:
        conf = Path(tmp) / "osmconf.ini"
        conf.write_text(OSM_CONFIG, encoding="utf-8")
        name = path.name.lower()
        opener = gzip.open if name.endswith(".gz") else bz2.open if name.endswith(".bz2") else None
        if opener is None:
            yield path, conf
            return
        plain = Path(tmp) / "data.osm"
        try:
            with opener(path, "rb") as src, plain.open("wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        except (OSError, EOFError) as exc:
            raise InputDataError(f"{path}: cannot decompress ({exc})") from None
        yield plain, conf


def _read(path: Path, conf: Path, layer: str, source: Path, **kwargs: object) -> gpd.GeoDataFrame:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gdf = pyogrio.read_dataframe(
                path, layer=layer, CONFIG_FILE=str(conf), on_invalid="ignore", **kwargs
            )
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "not recognized" in first:
            first = "not OSM XML or PBF data"
        first = first.replace(str(path), source.name).split("; It might help")[0]
        raise InputDataError(f"{source}: cannot read as OpenStreetMap ({first})") from None
    if gdf.crs is None:
        gdf = gdf.set_crs(WGS84)
    return gdf


def parse_maxspeed(value: object) -> float | None:
    """km/h from an OSM ``maxspeed`` value (``"50"``, ``"30 mph"``, ``"50;30"`` takes the
    first); ``None`` for missing, ``none``, ``signals``, ``walk`` or country codes such as
    ``DE:rural`` (the table speed is used then)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip().lower().split(";")[0]
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?", text)
    if not match:
        return None
    speed = float(match.group(1))
    if match.group(2) == "mph":
        speed *= 1.609344
    return speed if 0 < speed <= 300 else None


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series("", index=frame.index, dtype=object)
    return frame[column].where(frame[column].notna(), "").astype(str).str.strip().str.lower()


@dataclass(frozen=True)
class OsmRoads:
    """Drivable roads read from an OSM file.

    Attributes
    ----------
    roads
        ``osm_id, name, road_class`` (the ``highway`` value), ``speed_kph``,
        ``speed_source`` (``maxspeed`` or ``highway``), ``oneway`` (bool, in the line's
        direction), geometry (LineString, WGS 84).
    excluded
        Ways left out, by reason (``highway=footway``, ``access=private``, …).
    """

    roads: gpd.GeoDataFrame
    excluded: dict[str, int] = field(default_factory=dict)


def select_roads(
    lines: gpd.GeoDataFrame, *, speeds: Mapping[str, float] = OSM_SPEED_KPH
) -> OsmRoads:
    """Keep the drivable ways of the driver's ``lines`` layer and give each a speed.

    Parameters
    ----------
    lines
        The OSM driver's ``lines`` layer (columns of :data:`OSM_CONFIG`).
    speeds
        km/h by ``highway`` value; its keys are the drivable values.

    Returns
    -------
    OsmRoads
    """
    table = {k.strip().lower(): float(v) for k, v in speeds.items()}
    highway = _text(lines, "highway")
    excluded: dict[str, int] = {}

    def drop(mask: pd.Series, reason: str) -> None:
        if mask.any():
            excluded[reason] = excluded.get(reason, 0) + int(mask.sum())

    is_way = highway != ""
    drivable = highway.isin(list(table))
    for value, count in highway[is_way & ~drivable].value_counts().items():
        excluded[f"highway={value}"] = int(count)
    keep = drivable.copy()
    for key in ("access", "vehicle", "motor_vehicle", "motorcar"):
        closed = keep & _text(lines, key).isin(CLOSED_ACCESS)
        # A more specific tag that allows motor vehicles wins over a general closure.
        if key in ("access", "vehicle"):
            opened = _text(lines, "motor_vehicle").isin({"yes", "designated", "destination",
                                                          "delivery", "permissive"})
            closed &= ~opened
        for value, count in _text(lines, key)[closed].value_counts().items():
            drop(pd.Series([True] * int(count)), f"{key}={value}")
        keep &= ~closed
    service = keep & (highway == "service") & _text(lines, "service").isin(EXCLUDED_SERVICE)
    for value, count in _text(lines, "service")[service].value_counts().items():
        drop(pd.Series([True] * int(count)), f"service={value}")
    keep &= ~service
    area = keep & _text(lines, "area").isin({"yes", "true", "1"})
    drop(area, "area=yes")
    keep &= ~area
    geoms = lines.geometry
    is_line = geoms.notna() & geoms.geom_type.isin(["LineString", "MultiLineString"])
    drop(keep & ~is_line, "not a line")
    keep &= is_line

    sel = lines[keep.to_numpy()]
    hw = highway[keep]
    tagged = sel["maxspeed"].map(parse_maxspeed) if "maxspeed" in sel.columns else None
    class_speed = hw.map(table).astype(float)
    if tagged is not None:
        limit = pd.to_numeric(tagged, errors="coerce")
        speed = (limit * MAXSPEED_FACTOR).where(limit.notna(), class_speed)
        source = np.where(limit.notna(), "maxspeed", "highway")
    else:
        speed = class_speed
        source = np.full(len(sel), "highway")
    oneway_tag = _text(sel, "oneway")
    forward = oneway_tag.isin({"yes", "true", "1"})
    backward = oneway_tag.isin({"-1", "reverse"})
    implied = (oneway_tag == "") & (
        hw.isin(list(IMPLIED_ONEWAY)) | (_text(sel, "junction") == "roundabout")
    )
    geometry = sel.geometry.to_numpy().copy()
    back = backward.to_numpy()
    if back.any():
        geometry[back] = shapely.reverse(geometry[back])
    name = (
        sel["name"].where(sel["name"].notna(), "").astype(str)
        if "name" in sel.columns
        else pd.Series("", index=sel.index)
    )
    roads = gpd.GeoDataFrame(
        {
            "osm_id": sel["osm_id"].astype(str).to_numpy(),
            "name": name.to_numpy(),
            "road_class": hw.to_numpy(),
            "speed_kph": np.round(speed.to_numpy(dtype=float), 2),
            "speed_source": source,
            "oneway": (forward | backward | implied).to_numpy(dtype=bool),
        },
        geometry=geometry,
        crs=lines.crs or WGS84,
    )
    roads = roads.explode(index_parts=False).reset_index(drop=True)
    return OsmRoads(roads=roads, excluded=dict(sorted(excluded.items())))


def read_osm_roads(
    path: Path,
    *,
    speeds: Mapping[str, float] = OSM_SPEED_KPH,
    bbox: tuple[float, float, float, float] | None = None,
) -> OsmRoads:
    """Drivable roads of an OSM file (see the module docstring for the rules).

    Parameters
    ----------
    path
        ``.osm.pbf``, ``.pbf``, ``.osm``, ``.osm.gz`` or ``.osm.bz2``.
    speeds
        km/h by ``highway`` value (default :data:`OSM_SPEED_KPH`); its keys are the
        drivable values.
    bbox
        ``(west, south, east, north)`` in degrees: only ways that cross it.

    Returns
    -------
    OsmRoads

    Raises
    ------
    InputDataError
        A missing or unreadable file.
    """
    with _readable(path) as (readable, conf):
        lines = _read(readable, conf, "lines", path, bbox=bbox)
    return select_roads(lines, speeds=speeds)


@dataclass(frozen=True)
class OsmLayers:
    """Everything :func:`read_osm` takes from a file (WGS 84).

    Attributes
    ----------
    roads
        As :func:`read_osm_roads`.
    places
        ``place`` nodes: ``osm_id, name, name_zh, place, population`` (raw tag text).
    boundaries
        ``boundary=administrative`` multipolygons: ``osm_id, name, name_zh, admin_level``.
    """

    roads: OsmRoads
    places: gpd.GeoDataFrame
    boundaries: gpd.GeoDataFrame


def read_osm(
    path: Path,
    *,
    speeds: Mapping[str, float] = OSM_SPEED_KPH,
    bbox: tuple[float, float, float, float] | None = None,
) -> OsmLayers:
    """Roads, place nodes and administrative boundaries of an OSM file."""
    with _readable(path) as (readable, conf):
        lines = _read(readable, conf, "lines", path, bbox=bbox)
        points = _read(readable, conf, "points", path, bbox=bbox)
        polygons = _read(readable, conf, "multipolygons", path, bbox=bbox)
    place = _text(points, "place")
    places = points[(place != "").to_numpy()]
    places = gpd.GeoDataFrame(
        {
            "osm_id": places["osm_id"].astype(str).to_numpy(),
            "name": _raw(places, "name"),
            "name_zh": _raw(places, "name_zh"),
            "place": _text(places, "place").to_numpy(),
            "population": _raw(places, "population"),
        },
        geometry=places.geometry.to_numpy(),
        crs=points.crs,
    )
    boundary = _text(polygons, "boundary")
    admin = polygons[((boundary == "administrative") & polygons.geometry.notna()).to_numpy()]
    boundaries = gpd.GeoDataFrame(
        {
            "osm_id": admin["osm_id"].astype(str).to_numpy() if "osm_id" in admin else [],
            "name": _raw(admin, "name"),
            "name_zh": _raw(admin, "name_zh"),
            "admin_level": pd.to_numeric(
                pd.Series(_raw(admin, "admin_level")), errors="coerce"
            ).to_numpy(),
        },
        geometry=admin.geometry.to_numpy(),
        crs=polygons.crs,
    )
    return OsmLayers(roads=select_roads(lines, speeds=speeds), places=places,
                     boundaries=boundaries)


def _raw(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), "", dtype=object)
    values = frame[column]
    return np.asarray(values.where(values.notna(), "").astype(str).str.strip(), dtype=object)
