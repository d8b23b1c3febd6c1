"""Building a county: argument checks, the projected layout, :func:`make_county`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

from rural_logistics.generate.common import (
    CENTRE_LAT,
    CENTRE_LON,
    COUNTY_SEAT_TOWNSHIP,
    OUTPUT_CRS,
    WORK_CRS,
    XY,
    FloatArray,
    IntArray,
    SyntheticCounty,
)
from rural_logistics.generate.roads import (
    Road,
    county_roads,
    densify,
    node_crossings,
    township_roads,
    village_lanes,
    village_spurs,
)
from rural_logistics.generate.tables import (
    chinese_name,
    make_road_frame,
    project_geometry,
    towns_and_depot,
    unique_names,
    village_table,
)
from rural_logistics.generate.townships import (
    allocate,
    containing,
    make_outline,
    remote_pockets,
    township_polygons,
    township_seats,
)
from rural_logistics.generate.villages import (
    draw_populations,
    keep_off_roads,
    place_remote,
    place_villages,
    road_anchors,
)
from rural_logistics.generate.write import write_county

_MAX_ATTEMPTS = 8


def generate_county(
    out_dir: Path,
    *,
    seed: int = 2026,
    n_villages: int = 250,
    n_townships: int = 14,
    area_km2: float = 2000.0,
    n_remote: int = 6,
    elongation: float = 1.0,
    orientation_deg: float = 0.0,
    centre_lonlat: tuple[float, float] = (CENTRE_LON, CENTRE_LAT),
    lanes: bool = False,
    vertex_spacing_m: float | None = None,
) -> dict[str, Path]:
    """Write a seeded synthetic county into ``out_dir``.

    Parameters
    ----------
    out_dir
        Folder to write into; created if missing. Existing files of the same names are
        replaced, other files are left alone.
    seed
        Random seed (integer >= 0). The same seed gives the same content.
    n_villages
        Number of administrative villages, the remote ones included.
    n_townships
        Number of townships, the county seat's own ("Chengguan") included; at least 2.
    area_km2
        Area of the county, km².
    n_remote
        Remote mountain villages near the county border with no road within 2 km.
    elongation
        Length over width of the county outline (1 to 4): 1 is a roundish county, 3 a
        long valley.
    orientation_deg
        Direction of the long axis, degrees counter-clockwise from east (with
        ``elongation`` > 1).
    centre_lonlat
        Longitude and latitude of the county's centre (WGS 84). The county is built in
        UTM zone 49N whatever the centre, so keep it within about 105–117° E.
    lanes
        Natural-village resolution: two crossing ``village`` lanes (250–700 m) through
        every village's road end.
    vertex_spacing_m
        Shape points along every road at most this far apart (10–1000 m), as in an
        OpenStreetMap export; ``None`` keeps the 500–1000 m vertices of the sketch.

    Returns
    -------
    dict of str to Path
        The written files keyed ``villages`` (CSV), ``roads`` (GeoPackage, layer
        ``roads``), ``depots`` (GeoJSON), ``towns`` (GeoJSON) and ``townships``
        (GeoPackage, layer ``townships``).

    Raises
    ------
    ValueError
        If an argument is out of range, or the area is too small to fit the remote
        villages.
    OutputError
        If ``out_dir`` exists and is not a folder.
    """
    county = make_county(
        seed=seed,
        n_villages=n_villages,
        n_townships=n_townships,
        area_km2=area_km2,
        n_remote=n_remote,
        elongation=elongation,
        orientation_deg=orientation_deg,
        centre_lonlat=centre_lonlat,
        lanes=lanes,
        vertex_spacing_m=vertex_spacing_m,
    )
    return write_county(county, out_dir)


def make_county(
    *,
    seed: int = 2026,
    n_villages: int = 250,
    n_townships: int = 14,
    area_km2: float = 2000.0,
    n_remote: int = 6,
    elongation: float = 1.0,
    orientation_deg: float = 0.0,
    centre_lonlat: tuple[float, float] = (CENTRE_LON, CENTRE_LAT),
    lanes: bool = False,
    vertex_spacing_m: float | None = None,
) -> SyntheticCounty:
    """Build a synthetic county in memory (see :func:`generate_county`).

    Parameters
    ----------
    seed, n_villages, n_townships, area_km2, n_remote, elongation, orientation_deg, \
centre_lonlat, lanes, vertex_spacing_m
        As for :func:`generate_county`.

    Returns
    -------
    SyntheticCounty
        All layers in EPSG:4326, coordinates rounded to 7 decimals.

    Raises
    ------
    ValueError
        If an argument is out of range, or the area is too small to fit the remote
        villages.
    """
    _check_arguments(
        seed=seed,
        n_villages=n_villages,
        n_townships=n_townships,
        area_km2=area_km2,
        n_remote=n_remote,
        elongation=elongation,
        orientation_deg=orientation_deg,
        centre_lonlat=centre_lonlat,
        vertex_spacing_m=vertex_spacing_m,
    )
    root = np.random.default_rng(seed)
    geo_rng, attr_rng, name_rng = root.spawn(3)
    # Spawned after the three above, so the other streams (and a county without lanes)
    # are unchanged.
    lane_rng = root.spawn(1)[0] if lanes else None
    area_m2 = float(area_km2) * 1e6
    to_utm = Transformer.from_crs(OUTPUT_CRS, WORK_CRS, always_xy=True)
    cx, cy = to_utm.transform(*centre_lonlat)
    centre = (float(cx), float(cy))

    layout: _Layout | None = None
    for _ in range(_MAX_ATTEMPTS):  # a new layout if the remote villages found no room
        layout = _layout(
            geo_rng,
            attr_rng,
            centre=centre,
            area_m2=area_m2,
            n_villages=n_villages,
            n_townships=n_townships,
            n_remote=n_remote,
            elongation=elongation,
            orientation_deg=orientation_deg,
            lane_rng=lane_rng,
        )
        if layout is not None:
            break
    if layout is None:
        raise ValueError(
            f"cannot fit {n_remote} remote villages more than 2 km from any road in "
            f"{area_km2:g} km²: raise area_km2 or lower n_remote"
        )
    outline, seats, polygons, roads = layout.outline, layout.seats, layout.polygons, layout.roads
    if vertex_spacing_m is not None:
        densify(roads, vertex_spacing_m=float(vertex_spacing_m))
    village_xy, village_town = layout.village_xy, layout.village_town
    population, remote_xy = layout.population, layout.remote_xy
    remote_town = np.array(
        [containing(polygons, seats, p) for p in remote_xy], dtype=np.int64
    ).reshape(-1)
    remote_population = np.clip(
        np.round(np.exp(attr_rng.normal(math.log(260.0), 0.35, size=len(remote_xy)))),
        120,
        600,
    ).astype(np.int64)

    all_xy = np.vstack([village_xy, remote_xy.reshape(-1, 2)])
    all_town = np.concatenate([village_town, remote_town])
    all_pop = np.concatenate([population, remote_population])
    is_remote = np.concatenate(
        [np.zeros(len(village_xy), dtype=bool), np.ones(len(remote_xy), dtype=bool)]
    )

    names = unique_names(name_rng, 1 + (n_townships - 1) + n_villages)
    county_name = names[0]
    township_names = [COUNTY_SEAT_TOWNSHIP, *names[1:n_townships]]
    village_names = names[n_townships:]

    to_lonlat = Transformer.from_crs(WORK_CRS, OUTPUT_CRS, always_xy=True)
    villages = village_table(
        attr_rng,
        to_lonlat,
        xy=all_xy,
        township=all_town,
        population=all_pop,
        is_remote=is_remote,
        village_names=village_names,
        township_names=township_names,
    )
    remote_ids = tuple(villages.loc[villages["_remote"], "id"].astype(str))
    villages = villages.drop(columns="_remote")

    town_pop = villages.groupby("township")["population"].sum()
    townships = gpd.GeoDataFrame(
        {
            "name": township_names,
            "name_zh": [chinese_name(t, "镇") for t in township_names],
            "population": [int(town_pop.get(n, 0)) for n in township_names],
        },
        geometry=[project_geometry(p, to_lonlat) for p in polygons],
        crs=OUTPUT_CRS,
    )
    road_frame = make_road_frame(roads, to_lonlat)
    towns, depots = towns_and_depot(
        geo_rng, to_lonlat, seats=seats, township_names=township_names, county=county_name
    )
    return SyntheticCounty(
        name=county_name,
        villages=villages,
        roads=road_frame,
        depots=depots,
        towns=towns,
        townships=townships,
        area_km2=outline.area / 1e6,
        remote_village_ids=remote_ids,
    )


# ----------------------------------------------------------------------------- arguments


def _check_arguments(
    *,
    seed: int,
    n_villages: int,
    n_townships: int,
    area_km2: float,
    n_remote: int,
    elongation: float = 1.0,
    orientation_deg: float = 0.0,
    centre_lonlat: tuple[float, float] = (CENTRE_LON, CENTRE_LAT),
    vertex_spacing_m: float | None = None,
) -> None:
    """Raise ``ValueError`` listing every argument of :func:`make_county` out of range."""
    problems: list[str] = []

    def is_int(value: object) -> bool:
        return isinstance(value, int | np.integer) and not isinstance(value, bool)

    if not is_int(seed) or seed < 0:
        problems.append(f"seed must be an integer >= 0, got {seed!r}")
    for label, value, low in (
        ("n_villages", n_villages, 1),
        ("n_townships", n_townships, 2),
        ("n_remote", n_remote, 0),
    ):
        if not is_int(value) or value < low:
            problems.append(f"{label} must be an integer >= {low}, got {value!r}")
    if isinstance(area_km2, bool) or not isinstance(area_km2, int | float | np.number):
        problems.append(f"area_km2 must be a number, got {area_km2!r}")
    elif not math.isfinite(float(area_km2)) or area_km2 < 50.0:
        problems.append(f"area_km2 must be a finite number >= 50, got {area_km2!r}")
    if not _is_number(elongation) or not 1.0 <= float(elongation) <= 4.0:
        problems.append(f"elongation must be a number from 1 to 4, got {elongation!r}")
    if not _is_number(orientation_deg) or not math.isfinite(float(orientation_deg)):
        problems.append(f"orientation_deg must be a finite number, got {orientation_deg!r}")
    lon_lat = tuple(centre_lonlat) if isinstance(centre_lonlat, tuple | list) else ()
    if (
        len(lon_lat) != 2
        or not all(_is_number(v) for v in lon_lat)
        or not (100.0 <= float(lon_lat[0]) <= 122.0 and 15.0 <= float(lon_lat[1]) <= 45.0)
    ):
        problems.append(
            f"centre_lonlat must be (lon, lat) within 100–122° E, 15–45° N, got {centre_lonlat!r}"
        )
    if vertex_spacing_m is not None and (
        not _is_number(vertex_spacing_m) or not 10.0 <= float(vertex_spacing_m) <= 1000.0
    ):
        problems.append(
            f"vertex_spacing_m must be a number from 10 to 1000, got {vertex_spacing_m!r}"
        )
    if problems:
        raise ValueError("; ".join(problems))
    if n_villages - n_remote < n_townships:
        problems.append(
            f"n_villages - n_remote ({n_villages - n_remote}) must be at least "
            f"n_townships ({n_townships}): every township needs a road-connected village"
        )
    if area_km2 / n_villages < 0.5:
        problems.append(
            f"area_km2 / n_villages must be >= 0.5 km² per village, got {area_km2 / n_villages:.2f}"
        )
    if area_km2 / n_townships < 10.0:
        problems.append(
            f"area_km2 / n_townships must be >= 10 km² per township, got "
            f"{area_km2 / n_townships:.2f}"
        )
    if problems:
        raise ValueError("; ".join(problems))


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.number) and not isinstance(value, bool)


# ----------------------------------------------------------------------------- geography


# ----------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class _Layout:
    """The projected geometry of a county (metres, EPSG:32649)."""

    outline: shapely.Polygon
    seats: FloatArray
    polygons: list[shapely.Polygon]
    village_xy: FloatArray
    village_town: IntArray
    population: IntArray
    roads: list[Road]
    remote_xy: FloatArray


def _layout(
    geo_rng: np.random.Generator,
    attr_rng: np.random.Generator,
    *,
    centre: XY,
    area_m2: float,
    n_villages: int,
    n_townships: int,
    n_remote: int,
    elongation: float = 1.0,
    orientation_deg: float = 0.0,
    lane_rng: np.random.Generator | None = None,
) -> _Layout | None:
    """Outline, townships, villages and roads; ``None`` if the remote villages find no room."""
    radius_m = math.sqrt(area_m2 / math.pi)
    spacing_m = min(800.0, 0.5 * math.sqrt(area_m2 / n_villages))
    outline = make_outline(
        geo_rng,
        centre=centre,
        area_m2=area_m2,
        elongation=float(elongation),
        orientation_deg=float(orientation_deg),
    )
    pockets = remote_pockets(geo_rng, outline, n_remote, inset_m=min(1200.0, 0.1 * radius_m))
    seats = township_seats(
        geo_rng,
        outline,
        n_townships,
        pockets=pockets,
        clearance_m=min(5000.0, 0.4 * radius_m),
    )
    polygons = township_polygons(outline, seats)
    counts = allocate(n_villages - n_remote, np.array([p.area for p in polygons]))
    village_xy, village_town = place_villages(
        geo_rng,
        polygons,
        seats,
        counts,
        pockets=pockets,
        pocket_clear_m=min(3500.0, 0.3 * radius_m),
        spacing_m=spacing_m,
    )
    population = draw_populations(attr_rng, village_xy, seats[village_town])
    anchors = road_anchors(geo_rng, village_xy)

    roads = county_roads(geo_rng, seats)
    in_tree = township_roads(geo_rng, roads, seats, anchors, village_town, population)
    village_spurs(geo_rng, roads, anchors, ~in_tree)
    if lane_rng is not None:
        village_lanes(lane_rng, roads, anchors)
    node_crossings(roads)
    village_xy = keep_off_roads(village_xy, roads, polygons, village_town)
    remote_xy = place_remote(
        geo_rng, outline, pockets, roads, village_xy, n=n_remote, spacing_m=spacing_m
    )
    if remote_xy is None:
        return None
    return _Layout(
        outline=outline,
        seats=seats,
        polygons=polygons,
        village_xy=village_xy,
        village_town=village_town,
        population=population,
        roads=roads,
        remote_xy=remote_xy,
    )
