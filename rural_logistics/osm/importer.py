"""``rural-logistics import-osm``: an OpenStreetMap extract → a ready-to-run region folder.

Writes ``roads.gpkg`` (drivable roads with ``road_class``, ``speed_kph``, ``oneway``),
``villages.csv`` (place nodes with ``population`` and ``population_assumed``),
``depots.geojson``, ``townships.gpkg`` (administrative boundaries, when the extract has
them), ``region.yaml`` (a config that names its assumptions) and ``ATTRIBUTION.txt``
(OpenStreetMap's ODbL notice). Every assumption that moves a figure is in the config's
header and in :class:`ImportResult`.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import yaml

from rural_logistics import __version__
from rural_logistics.errors import InputDataError, OutputError
from rural_logistics.osm.read import (
    MAXSPEED_FACTOR,
    OSM_SPEED_KPH,
    WGS84,
    read_osm,
)

#: Population assumed for a place node without a ``population`` tag, by ``place`` value.
#: A planning assumption, not a statistic: these are round figures for a small town, a
#: village, a hamlet and a single farmstead. Replace them with census figures where you
#: have them (``--population village=800`` or edit ``villages.csv``); every village that
#: uses one is flagged ``population_assumed``.
DEFAULT_PLACE_POPULATION: dict[str, int] = {
    "town": 5000,
    "village": 500,
    "hamlet": 50,
    "isolated_dwelling": 5,
}

#: OSM ``admin_level`` read as townships by default: 8 is the township (乡镇) level in
#: China's OSM convention and the municipality (Gemeinde) level in Germany's.
DEFAULT_ADMIN_LEVEL = 8

ATTRIBUTION = """Map data © OpenStreetMap contributors.

The files in this folder were derived from OpenStreetMap data by `rural-logistics
import-osm` ({source}). OpenStreetMap data is available under the Open Database License
(ODbL) 1.0: https://opendatacommons.org/licenses/odbl/1-0/ — see
https://www.openstreetmap.org/copyright. This folder is a derived database: it stays under
the ODbL, and any use or redistribution must keep this attribution.
"""

Progress = Callable[[str], object]


@dataclass(frozen=True)
class ImportResult:
    """What :func:`import_osm` wrote and assumed.

    Attributes
    ----------
    files
        Written files by role (``roads``, ``villages``, ``depots``, ``townships``,
        ``config``, ``attribution``).
    road_km_by_class
        Kilometres of drivable road per ``highway`` value (largest first).
    roads, oneway_roads, maxspeed_roads
        Road lines written; of them one-way, and with a speed from ``maxspeed``.
    excluded
        Ways left out, by reason.
    villages, population_given, population_assumed
        Place nodes written; with a ``population`` tag, and with the default for their type.
    townships
        Township polygons written (0 when the extract has no boundaries at that level).
    depot
        The depot: where it was put and why.
    assumptions
        One line per assumption (also in ``region.yaml``'s header).
    seconds
        Wall time per step.
    """

    files: dict[str, Path]
    road_km_by_class: dict[str, float]
    roads: int
    oneway_roads: int
    maxspeed_roads: int
    excluded: dict[str, int]
    villages: int
    population_given: int
    population_assumed: int
    townships: int
    depot: str
    assumptions: tuple[str, ...]
    seconds: dict[str, float] = field(default_factory=dict)


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``"west,south,east,north"`` in degrees → a tuple; ``InputDataError`` if malformed."""
    parts = [p.strip() for p in text.split(",")]
    try:
        west, south, east, north = (float(p) for p in parts)
    except ValueError:
        raise InputDataError(
            f"--bbox {text!r}: expected four numbers west,south,east,north in degrees"
        ) from None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise InputDataError(
            f"--bbox {text!r}: expected west < east within -180..180 and south < north "
            "within -90..90 (degrees, WGS 84)"
        )
    return west, south, east, north


def parse_assignments(items: list[str] | None, what: str) -> dict[str, float]:
    """``["track=15", "village=800"]`` → ``{"track": 15.0, "village": 800.0}``."""
    out: dict[str, float] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not sep or not key.strip() or not math.isfinite(number) or number < 0:
            raise InputDataError(f"{what} {item!r}: expected NAME=NUMBER (e.g. track=15)")
        out[key.strip().lower()] = number
    return out


def _read_boundary(path: Path) -> shapely.Geometry:
    from rural_logistics.io import read_layer

    layer = read_layer(path)
    if layer.crs is None:
        raise InputDataError(f"{path}: layer has no CRS (save it with a CRS, e.g. EPSG:4326)")
    polys = layer.to_crs(WGS84).geometry
    polys = polys[polys.notna() & polys.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polys.empty:
        raise InputDataError(f"{path}: no Polygon or MultiPolygon to use as --boundary")
    return shapely.union_all(polys.to_numpy())


def _population(places: gpd.GeoDataFrame, defaults: Mapping[str, float]) -> tuple[
    np.ndarray, np.ndarray
]:
    """Population per place: the tag where it is a number ≥ 0, else the type's default."""
    text = pd.Series(places["population"], dtype=object).astype(str)
    cleaned = text.str.replace(r"[\s,.'’]", "", regex=True)
    given = pd.to_numeric(cleaned.where(cleaned.str.fullmatch(r"\d+")), errors="coerce")
    default = pd.Series(places["place"]).map(defaults).astype(float)
    assumed = given.isna().to_numpy()
    return np.where(assumed, default.to_numpy(), given.to_numpy()), assumed


def _ids(places: gpd.GeoDataFrame) -> np.ndarray:
    return np.array([f"N{oid}" for oid in places["osm_id"]], dtype=object)


def import_osm(
    source: Path,
    out: Path,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    boundary: Path | None = None,
    speeds: Mapping[str, float] | None = None,
    populations: Mapping[str, float] | None = None,
    admin_level: int = DEFAULT_ADMIN_LEVEL,
    depot: tuple[float, float] | None = None,
    name: str | None = None,
    force: bool = False,
    config: Path | None = None,
    progress: Callable[[str], object] | None = None,
) -> ImportResult:
    """Import an OSM extract as a region folder.

    Parameters
    ----------
    source
        ``.osm.pbf``, ``.pbf``, ``.osm``, ``.osm.gz`` or ``.osm.bz2``.
    out
        Output folder (created; refused if it exists and is not empty, unless ``force``).
    bbox
        ``(west, south, east, north)`` degrees: villages inside, roads that cross it.
    boundary
        A polygon file: villages inside, roads that cross it (with ``bbox``: both).
    speeds
        km/h per ``highway`` value, updating :data:`OSM_SPEED_KPH` (a new key adds a
        class, e.g. ``track``; 0 removes one).
    populations
        Population per ``place`` value, updating :data:`DEFAULT_PLACE_POPULATION`.
    admin_level
        OSM ``admin_level`` of the boundaries written as townships.
    depot
        ``(lon, lat)`` of the county distribution centre; default the most populous place.
    name
        Region name; default from the file name.
    force
        Write into a non-empty ``out``.
    config
        Where to write the config (default ``out/region.yaml``); its data paths are
        relative to its folder.
    progress
        Called with one line per finished step.

    Returns
    -------
    ImportResult

    Raises
    ------
    InputDataError
        An unreadable file, no drivable road or no place in the area.
    OutputError
        ``out`` is not empty (without ``force``) or not a folder.
    """
    say = progress or (lambda _line: None)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise OutputError(f"{out}: folder exists and is not empty (use --force)")
    table = {**OSM_SPEED_KPH, **{k.lower(): float(v) for k, v in (speeds or {}).items()}}
    table = {k: v for k, v in table.items() if v > 0}
    pops = {**DEFAULT_PLACE_POPULATION, **{k.lower(): float(v) for k, v in
                                            (populations or {}).items()}}
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    area = None
    if boundary is not None:
        area = _read_boundary(boundary)
    if bbox is not None:
        box = shapely.box(*bbox)
        area = box if area is None else shapely.intersection(area, box)
    read_box: tuple[float, float, float, float] | None = None
    if area is not None:
        west, south, east, north = (float(v) for v in shapely.bounds(area))
        read_box = (west, south, east, north)
    layers = read_osm(source, speeds=table, bbox=read_box)
    roads = layers.roads.roads
    places = layers.places
    if area is not None:
        roads = roads[shapely.intersects(roads.geometry.to_numpy(), area)]
        places = places[shapely.within(places.geometry.to_numpy(), area)]
    places = places[places["place"].isin(list(pops))].reset_index(drop=True)
    seconds["read"] = time.perf_counter() - start
    say(f"read {source.name}: {len(roads)} road lines, {len(places)} places "
        f"({seconds['read']:.1f} s)")
    if roads.empty:
        raise InputDataError(f"{source}: no drivable road in the area (highway values: "
                             f"{', '.join(sorted(table))})")
    if places.empty:
        raise InputDataError(
            f"{source}: no place node ({', '.join(sorted(pops))}) in the area; villages "
            "cannot be imported"
        )

    step = time.perf_counter()
    population, assumed = _population(places, pops)
    ids = _ids(places)
    names = np.where(places["name"] != "", places["name"], ids)
    utm = gpd.GeoSeries(places.geometry, crs=WGS84).estimate_utm_crs()
    km = (
        roads.to_crs(utm).geometry.length.groupby(roads["road_class"].to_numpy()).sum() / 1000
    ).sort_values(ascending=False)
    townships = _townships(layers.boundaries, admin_level, area)
    township_of = np.full(len(places), "", dtype=object)
    if townships is not None:
        joined = gpd.sjoin(
            gpd.GeoDataFrame(geometry=places.geometry.to_numpy(), crs=WGS84),
            townships[["name", "geometry"]], how="left", predicate="within",
        )
        joined = joined[~joined.index.duplicated()]
        township_of = joined["name"].fillna("").to_numpy(dtype=object)
    if depot is None:
        k = int(np.argmax(population))
        depot_xy = (places.geometry.iloc[k].x, places.geometry.iloc[k].y)
        depot_text = (
            f"at {names[k]} ({ids[k]}), the most populous place "
            f"({'assumed' if assumed[k] else 'tagged'} population {population[k]:,.0f}): "
            "not a real distribution centre; replace depots.geojson"
        )
        depot_name = f"DC {names[k]}"
    else:
        depot_xy = depot
        depot_text = f"at {depot[0]:.5f}, {depot[1]:.5f} (given with --depot)"
        depot_name = "DC"
    seconds["villages"] = time.perf_counter() - step

    step = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    files["roads"] = out / "roads.gpkg"
    _write_gpkg(roads, files["roads"], "roads")
    villages = pd.DataFrame(
        {
            "id": ids,
            "name": names,
            "name_zh": places["name_zh"].to_numpy(),
            "place": places["place"].to_numpy(),
            "township": township_of,
            "population": np.round(population).astype(int),
            "population_assumed": assumed,
            "osm_id": places["osm_id"].to_numpy(),
            "lon": np.round(places.geometry.x.to_numpy(), 7),
            "lat": np.round(places.geometry.y.to_numpy(), 7),
        }
    )
    if not (villages["name_zh"] != "").any():
        villages = villages.drop(columns="name_zh")
    files["villages"] = out / "villages.csv"
    villages.to_csv(files["villages"], index=False, encoding="utf-8")
    files["depots"] = out / "depots.geojson"
    depots = gpd.GeoDataFrame({"id": ["DC1"], "name": [depot_name]},
                              geometry=[shapely.Point(depot_xy)], crs=WGS84)
    depots.to_file(files["depots"], driver="GeoJSON", engine="pyogrio")
    n_townships = 0
    if townships is not None:
        files["townships"] = out / "townships.gpkg"
        _write_gpkg(townships, files["townships"], "townships")
        n_townships = len(townships)
    n_tagged = int((roads["speed_source"] == "maxspeed").sum())
    region_name = name or re.sub(r"(\.osm)?(\.pbf|\.gz|\.bz2)?$", "", source.name,
                                 flags=re.IGNORECASE).replace("-", " ").replace("_", " ")
    assumptions = (
        f"population: {int((~assumed).sum())} of {len(places)} places have an OSM population "
        f"tag; {int(assumed.sum())} use a default per place type ("
        + ", ".join(f"{k} {v:,.0f}" for k, v in pops.items() if k in set(places["place"]))
        + "), flagged population_assumed in villages.csv",
        "speeds: OSM highway -> km/h table of the OSRM car profile ("
        + ", ".join(f"{k} {v:g}" for k, v in sorted(table.items(), key=lambda kv: -kv[1]))
        + f"); where maxspeed is tagged ({n_tagged} of {len(roads)} lines) "
        f"{MAXSPEED_FACTOR:g} x maxspeed",
        "roads: highway values not in that table are left out (tracks, paths, footways, …); "
        "access/vehicle/motor_vehicle/motorcar = private, no, agricultural, forestry left out; "
        "oneway honoured (motorways and roundabouts one-way unless tagged)",
        f"depot: {depot_text}",
        f"fleet, stations, demand: illustrative defaults ({_vans(population)} vans of 300 "
        "parcels, 1.5 x the day's parcels at 25 parcels per person per year); set your own",
    )
    files["attribution"] = out / "ATTRIBUTION.txt"
    files["attribution"].write_text(ATTRIBUTION.format(source=source.name), encoding="utf-8")
    files["config"] = config if config is not None else out / "region.yaml"
    files["config"].parent.mkdir(parents=True, exist_ok=True)
    files["config"].write_text(
        _config_text(region_name, source, files, len(places), assumptions, table,
                     vans=_vans(population)),
        encoding="utf-8",
    )
    seconds["write"] = time.perf_counter() - step
    seconds["total"] = time.perf_counter() - start
    return ImportResult(
        files=files,
        road_km_by_class={str(k): round(float(v), 2) for k, v in km.items()},
        roads=len(roads),
        oneway_roads=int(roads["oneway"].sum()),
        maxspeed_roads=n_tagged,
        excluded=layers.roads.excluded,
        villages=len(places),
        population_given=int((~assumed).sum()),
        population_assumed=int(assumed.sum()),
        townships=n_townships,
        depot=depot_text,
        assumptions=assumptions,
        seconds={k: round(v, 2) for k, v in seconds.items()},
    )


def _townships(
    boundaries: gpd.GeoDataFrame, admin_level: int, area: shapely.Geometry | None
) -> gpd.GeoDataFrame | None:
    level = boundaries[boundaries["admin_level"] == admin_level]
    if area is not None and len(level):
        level = level[shapely.intersects(level.geometry.to_numpy(), area)]
    level = level[level.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    if level.empty:
        return None
    names = np.where(level["name"] != "", level["name"], [f"R{o}" for o in level["osm_id"]])
    return gpd.GeoDataFrame(
        {"name": names, "name_zh": level["name_zh"].to_numpy(),
         "osm_id": level["osm_id"].to_numpy(), "admin_level": admin_level},
        geometry=level.geometry.to_numpy(), crs=WGS84,
    ).reset_index(drop=True)


def _vans(population: np.ndarray) -> int:
    """Vans of 300 parcels for 1.5 × the day's parcels at the default demand rate."""
    parcels = float(np.sum(population)) * 25.0 / 365.0
    return max(2, math.ceil(1.5 * parcels / 300.0))


def _write_gpkg(frame: gpd.GeoDataFrame, path: Path, layer: str) -> None:
    if path.exists():
        path.unlink()
    frame.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")


def _config_text(
    region_name: str,
    source: Path,
    files: dict[str, Path],
    n_villages: int,
    assumptions: tuple[str, ...],
    speeds: Mapping[str, float],
    *,
    vans: int,
) -> str:
    today = _dt.date.today().isoformat()
    attribution = Path(os.path.relpath(files["attribution"].resolve(),
                                       files["config"].parent.resolve())).as_posix()
    header = [
        f"# {region_name}: imported from {source.name} by `rural-logistics import-osm` "
        f"(rural-logistics {__version__}, {today}).",
        f"# Map data © OpenStreetMap contributors, ODbL 1.0 (see {attribution}).",
        "# Assumptions (each moves the figures; check them before you use a plan):",
        *(f"#  - {line}" for line in assumptions),
    ]
    stations = max(1, min(40, round(n_villages / 6)))
    base = files["config"].parent.resolve()

    def rel(key: str) -> str:
        return Path(os.path.relpath(files[key].resolve(), base)).as_posix()

    config = {
        "region": {"name": region_name, "crs": "auto"},
        "data": {
            "villages": rel("villages"),
            "roads": rel("roads"),
            "depots": rel("depots"),
            **({"townships": rel("townships")} if "townships" in files else {}),
        },
        "network": {
            "speed_kph_by_class": {k: float(v) for k, v in sorted(speeds.items())},
            "oneway_column": "oneway",
            "disconnected": "connect",
        },
        "placement": {"method": "p_median", "stations": stations, "radius_km": 3},
        "fleet": {"vehicles": [{"name": "van", "capacity_parcels": 300, "count": vans,
                                "cost_per_km": 1.4, "fixed_cost_per_day": 180}]},
        "solver": {"time_limit_s": 10, "seed": 0},
    }
    body = yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    return "\n".join(header) + "\n" + body
