"""A seeded synthetic county for demos and tests.

:func:`generate_county` writes a made-up county shaped like a hilly county of
south-central China: an irregular outline, townships (Voronoi cells of their seats),
administrative villages clustered around the township seats, a hierarchical road network
(``county`` roads between township seats, ``township`` road trees through the larger
villages, ``village`` spurs to the rest) and a few remote mountain villages with no road
within 2 km. Nothing in it is a real place.

Everything is built in UTM zone 49N (EPSG:32649, metres) around lon 110.3 E, lat 27.5 N
and written in WGS 84 lon/lat (EPSG:4326) rounded to 7 decimals (about 1 cm).

Road noding guarantee: roads meet **only** at shared vertices. Every junction (a spur
joining a road, a township road leaving a seat, two roads crossing) is a vertex of every
line that passes through it, and a shared vertex is transformed and rounded once, so it is
bit-identical in all those lines in the written file. Without the remote villages the
road network is one connected component. Free line ends are dead ends next to a village.

The same ``seed`` always gives the same data; only :func:`numpy.random.default_rng` is
used (no global random state).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyogrio
import shapely
from pyproj import Transformer
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import minimum_spanning_tree, shortest_path

from rural_logistics.errors import OutputError

WORK_CRS = "EPSG:32649"
OUTPUT_CRS = "EPSG:4326"
CENTRE_LON = 110.3
CENTRE_LAT = 27.5
COORDINATE_DECIMALS = 7
COUNTY_SEAT_TOWNSHIP = "Chengguan"
REMOTE_CLEARANCE_M = 2000.0
"""Remote villages have no road closer than this."""
_MAX_ATTEMPTS = 8

FILE_NAMES: dict[str, str] = {
    "villages": "villages.csv",
    "roads": "roads.gpkg",
    "depots": "depots.geojson",
    "towns": "towns.geojson",
    "townships": "townships.gpkg",
}

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
XY = tuple[float, float]

# Pinyin-like syllables for place names. Second syllables start with a consonant so that
# no apostrophe is needed (no "Xia'ao").
_FIRST_SYLLABLES = (
    "Bai", "Bei", "Cha", "Da", "Dong", "Feng", "Gao", "Gu", "Heng", "Hong", "Huang",
    "Jiang", "Jin", "Lian", "Liu", "Long", "Lu", "Ma", "Mei", "Nan", "Qing", "Sha",
    "Shang", "Shi", "Shui", "Song", "Tai", "Tang", "Tao", "Tian", "Wang", "Xi", "Xia",
    "Xiao", "Xin", "Yang", "Yu", "Yun", "Zhang", "Zhu",
)  # fmt: skip
_SECOND_SYLLABLES = (
    "ba", "chong", "dong", "fang", "gang", "gou", "he", "jia", "keng", "kou", "lin",
    "ling", "men", "ping", "po", "pu", "qiao", "shan", "tan", "tang", "tian", "tou",
    "wan", "wu", "xi", "ya", "yuan", "zhai", "zhou", "chuan",
)  # fmt: skip


@dataclass(frozen=True)
class SyntheticCounty:
    """A generated county, every layer in EPSG:4326 as it is written.

    Attributes
    ----------
    name
        County name (pinyin-like), e.g. ``"Qingxi"``.
    villages
        ``id, name, township, population, households, existing_station,
        produce_kg_per_day, lon, lat`` (a plain table; ``existing_station`` is the text
        ``"true"``/``"false"``).
    roads
        ``road_id, road_class, name, geometry`` (LineString).
    depots
        ``id, name, kind, geometry`` (Point), one row.
    towns
        ``id, name, township, geometry`` (Point), one row per township seat.
    townships
        ``name, population, geometry`` (Polygon).
    area_km2
        Area of the county outline, km².
    remote_village_ids
        Ids of the villages with no road within 2 km.
    """

    name: str
    villages: pd.DataFrame
    roads: gpd.GeoDataFrame
    depots: gpd.GeoDataFrame
    towns: gpd.GeoDataFrame
    townships: gpd.GeoDataFrame
    area_km2: float
    remote_village_ids: tuple[str, ...]


@dataclass
class _Road:
    """A road being built: projected vertices (metres) and its class."""

    coords: list[XY]
    road_class: str


# ----------------------------------------------------------------------------- public API


def generate_county(
    out_dir: Path,
    *,
    seed: int = 2026,
    n_villages: int = 250,
    n_townships: int = 14,
    area_km2: float = 2000.0,
    n_remote: int = 6,
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
    )
    return write_county(county, out_dir)


def make_county(
    *,
    seed: int = 2026,
    n_villages: int = 250,
    n_townships: int = 14,
    area_km2: float = 2000.0,
    n_remote: int = 6,
) -> SyntheticCounty:
    """Build a synthetic county in memory (see :func:`generate_county`).

    Parameters
    ----------
    seed, n_villages, n_townships, area_km2, n_remote
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
    )
    root = np.random.default_rng(seed)
    geo_rng, attr_rng, name_rng = root.spawn(3)
    area_m2 = float(area_km2) * 1e6
    to_utm = Transformer.from_crs(OUTPUT_CRS, WORK_CRS, always_xy=True)
    cx, cy = to_utm.transform(CENTRE_LON, CENTRE_LAT)
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
        )
        if layout is not None:
            break
    if layout is None:
        raise ValueError(
            f"cannot fit {n_remote} remote villages more than 2 km from any road in "
            f"{area_km2:g} km²: raise area_km2 or lower n_remote"
        )
    outline, seats, polygons, roads = layout.outline, layout.seats, layout.polygons, layout.roads
    village_xy, village_town = layout.village_xy, layout.village_town
    population, remote_xy = layout.population, layout.remote_xy
    remote_town = np.array(
        [_containing(polygons, seats, p) for p in remote_xy], dtype=np.int64
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

    names = _unique_names(name_rng, 1 + (n_townships - 1) + n_villages)
    county_name = names[0]
    township_names = [COUNTY_SEAT_TOWNSHIP, *names[1:n_townships]]
    village_names = names[n_townships:]

    to_lonlat = Transformer.from_crs(WORK_CRS, OUTPUT_CRS, always_xy=True)
    villages = _village_table(
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
            "population": [int(town_pop.get(n, 0)) for n in township_names],
        },
        geometry=[_project_geometry(p, to_lonlat) for p in polygons],
        crs=OUTPUT_CRS,
    )
    road_frame = _road_frame(roads, to_lonlat)
    towns, depots = _towns_and_depot(
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


def write_county(county: SyntheticCounty, out_dir: Path) -> dict[str, Path]:
    """Write the layers of ``county`` into ``out_dir``.

    GeoPackages get a fixed timestamp so that the same county gives the same bytes.

    Parameters
    ----------
    county
        From :func:`make_county`.
    out_dir
        Folder; created if missing. Files of the same names are replaced.

    Returns
    -------
    dict of str to Path
        Written files keyed ``villages, roads, depots, towns, townships``.

    Raises
    ------
    OutputError
        If ``out_dir`` exists and is not a folder, or cannot be created.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir}: exists and is not a folder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot create the folder ({exc})") from exc
    paths = {key: out_dir / name for key, name in FILE_NAMES.items()}
    for path in paths.values():
        path.unlink(missing_ok=True)

    county.villages.to_csv(paths["villages"], index=False)
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2026-01-01T00:00:00Z"})
    try:
        county.roads.to_file(paths["roads"], layer="roads", driver="GPKG", engine="pyogrio")
        county.townships.to_file(
            paths["townships"], layer="townships", driver="GPKG", engine="pyogrio"
        )
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})
    for key in ("depots", "towns"):
        frame: gpd.GeoDataFrame = getattr(county, key)
        frame.to_file(paths[key], driver="GeoJSON", engine="pyogrio", COORDINATE_PRECISION=7)
    return paths


# ----------------------------------------------------------------------------- arguments


def _check_arguments(
    *, seed: int, n_villages: int, n_townships: int, area_km2: float, n_remote: int
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


# ----------------------------------------------------------------------------- geography


@dataclass(frozen=True)
class _Layout:
    """The projected geometry of a county (metres, EPSG:32649)."""

    outline: shapely.Polygon
    seats: FloatArray
    polygons: list[shapely.Polygon]
    village_xy: FloatArray
    village_town: IntArray
    population: IntArray
    roads: list[_Road]
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
) -> _Layout | None:
    """Outline, townships, villages and roads; ``None`` if the remote villages find no room."""
    radius_m = math.sqrt(area_m2 / math.pi)
    spacing_m = min(800.0, 0.5 * math.sqrt(area_m2 / n_villages))
    outline = _outline(geo_rng, centre=centre, area_m2=area_m2)
    pockets = _remote_pockets(geo_rng, outline, n_remote, inset_m=min(1200.0, 0.1 * radius_m))
    seats = _township_seats(
        geo_rng,
        outline,
        n_townships,
        pockets=pockets,
        clearance_m=min(5000.0, 0.4 * radius_m),
    )
    polygons = _township_polygons(outline, seats)
    counts = _allocate(n_villages - n_remote, np.array([p.area for p in polygons]))
    village_xy, village_town = _place_villages(
        geo_rng,
        polygons,
        seats,
        counts,
        pockets=pockets,
        pocket_clear_m=min(3500.0, 0.3 * radius_m),
        spacing_m=spacing_m,
    )
    population = _populations(attr_rng, village_xy, seats[village_town])
    anchors = _anchors(geo_rng, village_xy)

    roads = _county_roads(geo_rng, seats)
    in_tree = _township_roads(geo_rng, roads, seats, anchors, village_town, population)
    _village_spurs(geo_rng, roads, anchors, ~in_tree)
    _node_crossings(roads)
    village_xy = _keep_off_roads(village_xy, roads, polygons, village_town)
    remote_xy = _place_remote(
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


def _outline(rng: np.random.Generator, *, centre: XY, area_m2: float) -> shapely.Polygon:
    """A star-shaped county outline from smoothed random radii, scaled to ``area_m2``."""
    n = 180
    theta = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
    log_r = np.zeros(n)
    for k in range(2, 14):
        amplitude = 0.6 / k**1.1
        log_r += amplitude * rng.normal() * np.cos(k * theta + rng.uniform(0.0, 2.0 * math.pi))
    log_r += rng.normal(0.0, 0.02, size=n)  # a little roughness on the border
    radius = np.exp(log_r - log_r.mean())
    radius = np.maximum(radius, 0.5)
    xs = radius * np.cos(theta)
    ys = radius * np.sin(theta)
    unit_area = 0.5 * abs(float(np.dot(xs, np.roll(ys, -1)) - np.dot(ys, np.roll(xs, -1))))
    scale = math.sqrt(area_m2 / unit_area)
    return shapely.Polygon(np.column_stack([centre[0] + scale * xs, centre[1] + scale * ys]))


def _sample_inside(rng: np.random.Generator, region: shapely.Geometry, n: int) -> FloatArray:
    """``n`` uniform random points inside ``region`` (rejection sampling)."""
    if region.is_empty or region.area <= 0.0:
        raise ValueError("cannot sample points in an empty region")
    minx, miny, maxx, maxy = region.bounds
    out: list[FloatArray] = [np.zeros((0, 2))]
    have = 0
    shapely.prepare(region)
    for _ in range(10_000):
        if have >= n:
            break
        batch = max(64, 3 * (n - have))
        pts = np.column_stack(
            [rng.uniform(minx, maxx, size=batch), rng.uniform(miny, maxy, size=batch)]
        )
        pts = pts[shapely.contains_xy(region, pts[:, 0], pts[:, 1])]
        out.append(pts)
        have += len(pts)
    if have < n:
        raise ValueError("cannot sample points in a region this small")
    return np.vstack(out)[:n]


def _farthest_points(
    rng: np.random.Generator, candidates: FloatArray, n: int, fixed: FloatArray | None = None
) -> FloatArray:
    """Pick ``n`` candidates greedily, each as far as possible from those already taken."""
    taken: list[FloatArray] = [] if fixed is None else list(fixed)
    chosen: list[int] = []
    for _ in range(n):
        if not taken:
            idx = int(rng.integers(len(candidates)))
        else:
            ref = np.asarray(taken)
            d = np.min(
                np.hypot(
                    candidates[:, None, 0] - ref[None, :, 0],
                    candidates[:, None, 1] - ref[None, :, 1],
                ),
                axis=1,
            )
            d[chosen] = -1.0
            idx = int(np.argmax(d))
        chosen.append(idx)
        taken.append(candidates[idx])
    return candidates[chosen]


def _remote_pockets(
    rng: np.random.Generator, outline: shapely.Polygon, n: int, *, inset_m: float
) -> FloatArray:
    """Spread-out points just inside the border, reserved for remote villages."""
    if n == 0:
        return np.zeros((0, 2))
    ring = outline.exterior
    centroid = np.array(outline.centroid.coords[0])
    fractions = (np.arange(360) + rng.uniform()) / 360.0
    border = shapely.get_coordinates(
        shapely.line_interpolate_point(ring, fractions, normalized=True)
    )
    inward = centroid - border
    inward /= np.linalg.norm(inward, axis=1, keepdims=True)
    candidates = border + inset_m * inward
    inside = shapely.contains_xy(outline, candidates[:, 0], candidates[:, 1])
    return _farthest_points(rng, candidates[inside], n)


def _township_seats(
    rng: np.random.Generator,
    outline: shapely.Polygon,
    n: int,
    *,
    pockets: FloatArray,
    clearance_m: float,
) -> FloatArray:
    """County seat near the middle, other seats spread by best-candidate sampling."""
    radius_m = math.sqrt(outline.area / math.pi)
    inner: shapely.Geometry = outline.buffer(-min(2500.0, 0.15 * radius_m))
    region = inner
    if len(pockets):
        region = inner.difference(shapely.MultiPoint(pockets).buffer(clearance_m))
        if region.area < 0.25 * inner.area:  # pockets crowd a small county out
            region = inner
    centroid = outline.centroid
    county_seat = np.array([centroid.x, centroid.y])
    for _ in range(100):
        offset = rng.normal(0.0, 0.05 * radius_m, size=2)
        if region.contains(shapely.Point(*(county_seat + offset))):
            county_seat = county_seat + offset
            break
    seats = [county_seat]
    for _ in range(n - 1):
        candidates = _sample_inside(rng, region, 40)
        ref = np.asarray(seats)
        d = np.min(
            np.hypot(
                candidates[:, None, 0] - ref[None, :, 0], candidates[:, None, 1] - ref[None, :, 1]
            ),
            axis=1,
        )
        seats.append(candidates[int(np.argmax(d))])
    return np.asarray(seats, dtype=float)


def _township_polygons(outline: shapely.Polygon, seats: FloatArray) -> list[shapely.Polygon]:
    """Voronoi cells of the seats clipped to the outline, one Polygon per seat."""
    extent = outline.envelope.buffer(outline.length)
    cells = list(
        shapely.get_parts(shapely.voronoi_polygons(shapely.MultiPoint(seats), extend_to=extent))
    )
    seat_points = shapely.points(seats)
    pieces: list[list[shapely.Polygon]] = [[] for _ in seats]
    orphans: list[shapely.Polygon] = []
    for cell in cells:
        owner = [i for i, p in enumerate(seat_points) if cell.contains(p)]
        clipped = cell.intersection(outline)
        for part in shapely.get_parts(clipped):
            if part.geom_type != "Polygon" or part.area <= 0.0:
                continue
            if owner and part.contains(seat_points[owner[0]]):
                pieces[owner[0]].append(part)
            else:
                orphans.append(part)
    polygons: list[shapely.Geometry] = [shapely.union_all(p) for p in pieces]
    # A convex cell can cut a concave outline into several parts: give each detached part
    # to the township it shares the longest border with.
    for part in sorted(orphans, key=lambda g: -g.area):
        shared = [part.buffer(1.0).intersection(p).area for p in polygons]
        k = int(np.argmax(shared))
        polygons[k] = polygons[k].union(part)
    result: list[shapely.Polygon] = []
    for i, geom in enumerate(polygons):
        merged = geom
        if merged.geom_type != "Polygon":
            merged = merged.buffer(0.5).buffer(-0.5)
        if merged.geom_type != "Polygon":
            parts = sorted(shapely.get_parts(merged), key=lambda g: -g.area)
            merged = next((g for g in parts if g.contains(seat_points[i])), parts[0])
        result.append(shapely.Polygon(merged.exterior.coords))
    return result


def _allocate(total: int, weights: FloatArray) -> IntArray:
    """Split ``total`` proportionally to ``weights`` (largest remainder), at least 1 each."""
    n = len(weights)
    share = weights / weights.sum() * (total - n)
    counts = np.floor(share).astype(np.int64)
    rest = total - n - int(counts.sum())
    order = np.argsort(-(share - counts), kind="stable")
    counts[order[:rest]] += 1
    return counts + 1


def _containing(polygons: Sequence[shapely.Polygon], seats: FloatArray, xy: FloatArray) -> int:
    """Index of the polygon containing ``xy`` (nearest seat if on no polygon)."""
    point = shapely.Point(float(xy[0]), float(xy[1]))
    for i, poly in enumerate(polygons):
        if poly.covers(point):
            return i
    return int(np.argmin(np.hypot(seats[:, 0] - xy[0], seats[:, 1] - xy[1])))


def _place_villages(
    rng: np.random.Generator,
    polygons: Sequence[shapely.Polygon],
    seats: FloatArray,
    counts: IntArray,
    *,
    pockets: FloatArray,
    pocket_clear_m: float,
    spacing_m: float,
) -> tuple[FloatArray, IntArray]:
    """Villages clustered around each seat, inside its township, ``spacing_m`` apart."""
    placed: list[FloatArray] = []
    town: list[int] = []
    seat_clear_m = 0.6 * spacing_m
    for t, (poly, count) in enumerate(zip(polygons, counts, strict=True)):
        shapely.prepare(poly)
        sigma = 0.38 * math.sqrt(poly.area)
        minx, miny, maxx, maxy = poly.bounds
        spacing = spacing_m
        got = 0
        attempts = 0
        while got < count:
            batch = 64
            clustered = rng.uniform(size=batch) < 0.7
            pts = np.where(
                clustered[:, None],
                seats[t] + rng.normal(0.0, sigma, size=(batch, 2)),
                np.column_stack(
                    [rng.uniform(minx, maxx, size=batch), rng.uniform(miny, maxy, size=batch)]
                ),
            )
            for p in pts[shapely.contains_xy(poly, pts[:, 0], pts[:, 1])]:
                if got >= count:
                    break
                if np.min(np.hypot(*(seats - p).T)) < seat_clear_m:
                    continue
                if len(pockets) and np.min(np.hypot(*(pockets - p).T)) < pocket_clear_m:
                    continue
                if placed and np.min(np.hypot(*(np.asarray(placed) - p).T)) < spacing:
                    continue
                placed.append(p)
                town.append(t)
                got += 1
            attempts += 1
            if attempts % 50 == 0:  # crowded township: relax the spacings a little
                spacing *= 0.9
                pocket_clear_m *= 0.9
                seat_clear_m *= 0.9
    return np.asarray(placed, dtype=float), np.asarray(town, dtype=np.int64)


def _populations(rng: np.random.Generator, xy: FloatArray, seat_xy: FloatArray) -> IntArray:
    """Log-normal village populations, larger near the township seat, 120–6000."""
    base = np.exp(rng.normal(math.log(760.0), 0.6, size=len(xy)))
    dist_m = np.hypot(*(xy - seat_xy).T)
    boost = 1.0 + 0.8 * np.exp(-dist_m / 3000.0)
    return np.clip(np.round(base * boost), 120, 6000).astype(np.int64)


def _anchors(rng: np.random.Generator, xy: FloatArray) -> FloatArray:
    """Road-side points 20–300 m from each village (where its road ends)."""
    dist_m = np.exp(rng.uniform(math.log(25.0), math.log(280.0), size=len(xy)))
    angle = rng.uniform(0.0, 2.0 * math.pi, size=len(xy))
    return xy + np.column_stack([dist_m * np.cos(angle), dist_m * np.sin(angle)])


# ----------------------------------------------------------------------------- roads


def _as_xy(p: FloatArray | Sequence[float]) -> XY:
    """A coordinate pair as a tuple of Python floats (hashable, comparable exactly)."""
    return (float(p[0]), float(p[1]))


def _wiggly_line(rng: np.random.Generator, a: XY, b: XY, *, amplitude_frac: float) -> list[XY]:
    """A gently wiggling polyline from ``a`` to ``b``, a vertex every 500–1000 m."""
    ax, ay = a
    bx, by = b
    length = math.hypot(bx - ax, by - ay)
    step = rng.uniform(500.0, 1000.0)
    n = max(1, round(length / step))
    if n == 1:
        return [a, b]
    t = np.linspace(0.0, 1.0, n + 1)
    amplitude = min(amplitude_frac * length, 1500.0)
    offset = np.zeros_like(t)
    for k in (1, 2, 3):
        offset += rng.normal(0.0, 1.0 / k) * np.sin(k * math.pi * t)
    offset *= amplitude
    offset[1:-1] += rng.normal(0.0, min(30.0, 0.03 * length), size=n - 1)
    nx, ny = -(by - ay) / length, (bx - ax) / length
    xs = ax + t * (bx - ax) + offset * nx
    ys = ay + t * (by - ay) + offset * ny
    inner = [(float(x), float(y)) for x, y in zip(xs[1:-1], ys[1:-1], strict=True)]
    return [a, *inner, b]


def _mst_edges(xy: FloatArray) -> list[tuple[int, int]]:
    """Euclidean minimum spanning tree edges ``(i, j)``, ``i < j``, sorted."""
    if len(xy) < 2:
        return []
    dist = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    tree = minimum_spanning_tree(csr_matrix(np.triu(dist))).tocoo()
    return sorted((int(min(i, j)), int(max(i, j))) for i, j in zip(tree.row, tree.col, strict=True))


def _add_loops(
    xy: FloatArray,
    edges: list[tuple[int, int]],
    *,
    pairs: Sequence[tuple[int, int]],
    max_new: int,
    min_ratio: float,
    max_length_m: float,
) -> list[tuple[int, int]]:
    """Add up to ``max_new`` of ``pairs`` whose road detour ratio is largest (>= min_ratio)."""
    n = len(xy)
    dist = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    edges = list(edges)
    for _ in range(max_new):
        rows = [i for i, _ in edges] + [j for _, j in edges]
        cols = [j for _, j in edges] + [i for i, _ in edges]
        weights = [dist[i, j] for i, j in edges] * 2
        graph = csr_matrix((weights, (rows, cols)), shape=(n, n))
        path = shortest_path(graph, directed=False)
        best: tuple[float, tuple[int, int]] | None = None
        for i, j in pairs:
            if (i, j) in edges or dist[i, j] > max_length_m or dist[i, j] <= 0.0:
                continue
            ratio = float(path[i, j] / dist[i, j])
            if ratio >= min_ratio and (best is None or ratio > best[0]):
                best = (ratio, (i, j))
        if best is None:
            break
        edges.append(best[1])
    return edges


def _county_roads(rng: np.random.Generator, seats: FloatArray) -> list[_Road]:
    """County roads: spanning tree of the seats, direct links from the county seat, loops."""
    edges = _mst_edges(seats)
    lengths = [math.dist(seats[i], seats[j]) for i, j in edges]
    n = len(seats)
    edges = _add_loops(
        seats,
        edges,
        pairs=[(0, j) for j in range(1, n)],
        max_new=int(rng.integers(2, 4)),
        min_ratio=1.35,
        max_length_m=1.6 * max(lengths),
    )
    edges = _add_loops(
        seats,
        edges,
        pairs=[(i, j) for i in range(1, n) for j in range(i + 1, n)],
        max_new=2,
        min_ratio=1.8,
        max_length_m=1.3 * float(np.median(lengths)),
    )
    return [
        _Road(
            _wiggly_line(
                rng, _as_xy(seats[i]), _as_xy(seats[j]), amplitude_frac=rng.uniform(0.02, 0.05)
            ),
            "county",
        )
        for i, j in edges
    ]


def _township_roads(
    rng: np.random.Generator,
    roads: list[_Road],
    seats: FloatArray,
    anchors: FloatArray,
    village_town: IntArray,
    population: IntArray,
) -> npt.NDArray[np.bool_]:
    """Township road trees from each seat through its larger villages; returns who is on one."""
    in_tree = np.zeros(len(anchors), dtype=bool)
    for t in range(len(seats)):
        members = np.flatnonzero(village_town == t)
        if len(members) == 0:
            continue
        order = members[np.argsort(-population[members], kind="stable")]
        chosen = np.sort(order[: max(1, math.ceil(0.5 * len(members)))])
        in_tree[chosen] = True
        nodes = np.vstack([seats[t][None, :], anchors[chosen]])
        edges = _mst_edges(nodes)
        if len(nodes) >= 5:
            lengths = [math.dist(nodes[i], nodes[j]) for i, j in edges]
            edges = _add_loops(
                nodes,
                edges,
                pairs=[(i, j) for i in range(len(nodes)) for j in range(i + 1, len(nodes))],
                max_new=int(rng.integers(0, 2)),
                min_ratio=2.0,
                max_length_m=1.5 * max(lengths),
            )
        for i, j in edges:
            roads.append(
                _Road(
                    _wiggly_line(
                        rng,
                        _as_xy(nodes[i]),
                        _as_xy(nodes[j]),
                        amplitude_frac=rng.uniform(0.03, 0.07),
                    ),
                    "township",
                )
            )
    return in_tree


def _insert_vertex(coords: list[XY], p: XY) -> None:
    """Insert ``p`` into the polyline ``coords`` on the segment nearest to it."""
    if p in coords:
        return
    arr = np.asarray(coords)
    a, b = arr[:-1], arr[1:]
    ab = b - a
    denom = np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-12)
    t = np.clip(np.einsum("ij,ij->i", np.asarray(p) - a, ab) / denom, 0.0, 1.0)
    foot = a + t[:, None] * ab
    k = int(np.argmin(np.hypot(*(foot - np.asarray(p)).T)))
    coords.insert(k + 1, p)


def _nearest_vertex(coords: list[XY], p: XY) -> tuple[XY, float]:
    """The vertex of ``coords`` nearest to ``p`` and its distance, metres."""
    arr = np.asarray(coords)
    d = np.hypot(arr[:, 0] - p[0], arr[:, 1] - p[1])
    k = int(np.argmin(d))
    return coords[k], float(d[k])


def _village_spurs(
    rng: np.random.Generator, roads: list[_Road], anchors: FloatArray, todo: npt.NDArray[np.bool_]
) -> None:
    """A ``village`` spur from each remaining village to the nearest county/township road."""
    trunk = list(roads)
    lines = [shapely.LineString(r.coords) for r in trunk]
    tree = shapely.STRtree(lines)
    for v in np.flatnonzero(todo):
        start = _as_xy(anchors[v])
        point = shapely.Point(start)
        k = int(tree.query_nearest(point, all_matches=False)[0])
        road = trunk[k]
        foot_geom = lines[k].interpolate(lines[k].project(point))
        foot = (float(foot_geom.x), float(foot_geom.y))
        vertex, d_vertex = _nearest_vertex(road.coords, foot)
        if d_vertex < 25.0:
            foot = vertex
        else:
            _insert_vertex(road.coords, foot)
        if math.dist(start, foot) < 1.0:
            continue
        roads.append(
            _Road(_wiggly_line(rng, start, foot, amplitude_frac=rng.uniform(0.02, 0.06)), "village")
        )


def _node_crossings(roads: list[_Road], *, snap_m: float = 0.5) -> None:
    """Make every point where two roads meet a vertex of both (plane noding)."""
    lines = [shapely.LineString(r.coords) for r in roads]
    tree = shapely.STRtree(lines)
    left, right = tree.query(lines, predicate="intersects")
    for i, j in sorted({(int(a), int(b)) for a, b in zip(left, right, strict=True) if a < b}):
        a = roads[i].coords
        b = roads[j].coords
        meet = shapely.LineString(a).intersection(shapely.LineString(b))
        points = shapely.get_coordinates(meet)
        if meet.geom_type not in ("Point", "MultiPoint"):
            # Overlapping stretches do not happen by construction; node their ends anyway.
            points = shapely.get_coordinates(shapely.get_parts(meet))
        for x, y in points:
            p = (float(x), float(y))
            va, da = _nearest_vertex(a, p)
            vb, db = _nearest_vertex(b, p)
            if da <= snap_m and db <= snap_m and va == vb:
                continue
            shared = va if da <= snap_m else vb if db <= snap_m else p
            _insert_vertex(a, shared)
            _insert_vertex(b, shared)


def _keep_off_roads(
    xy: FloatArray,
    roads: list[_Road],
    polygons: Sequence[shapely.Polygon],
    village_town: IntArray,
    *,
    min_gap_m: float = 20.0,
) -> FloatArray:
    """Move villages that a road happens to pass through to a free spot nearby."""
    tree = shapely.STRtree([shapely.LineString(r.coords) for r in roads])
    _, dist = tree.query_nearest(shapely.points(xy), return_distance=True, all_matches=False)
    xy = xy.copy()
    angles = np.linspace(0.0, 2.0 * math.pi, 16, endpoint=False)
    ring = np.column_stack([np.cos(angles), np.sin(angles)])
    for v in np.flatnonzero(dist < min_gap_m):
        poly = polygons[int(village_town[v])]
        for step_m in (30.0, 60.0, 100.0, 150.0):
            spots = xy[v] + step_m * ring
            inside = shapely.contains_xy(poly, spots[:, 0], spots[:, 1])
            _, gap = tree.query_nearest(
                shapely.points(spots), return_distance=True, all_matches=False
            )
            ok = np.flatnonzero(inside & (gap >= min_gap_m))
            if len(ok):
                xy[v] = spots[ok[0]]
                break
    return xy


def _place_remote(
    rng: np.random.Generator,
    outline: shapely.Polygon,
    pockets: FloatArray,
    roads: list[_Road],
    village_xy: FloatArray,
    *,
    n: int,
    spacing_m: float,
) -> FloatArray | None:
    """Remote villages near the border, more than 2 km (with margin) from every road."""
    if n == 0:
        return np.zeros((0, 2))
    tree = shapely.STRtree([shapely.LineString(r.coords) for r in roads])
    region = outline.buffer(-150.0)
    need_m = REMOTE_CLEARANCE_M + 250.0
    chosen: list[FloatArray] = []

    def usable(pts: FloatArray) -> FloatArray:
        if len(pts) == 0:
            return pts
        _, dist = tree.query_nearest(shapely.points(pts), return_distance=True, all_matches=False)
        ok = dist >= need_m
        others = np.vstack([village_xy, *(c[None, :] for c in chosen)])
        gap = np.min(
            np.hypot(pts[:, None, 0] - others[None, :, 0], pts[:, None, 1] - others[None, :, 1]),
            axis=1,
        )
        return pts[ok & (gap >= spacing_m)]

    for pocket in pockets:
        disc = shapely.Point(*pocket).buffer(2000.0).intersection(region)
        if disc.is_empty:
            continue
        good = usable(_sample_inside(rng, disc, 300))
        if len(good):
            chosen.append(good[0])
    if len(chosen) < n:
        pts = _sample_inside(rng, region, 6000)
        by_border = np.argsort(shapely.distance(outline.exterior, shapely.points(pts)))
        pts = pts[by_border]
        while len(chosen) < n:
            good = usable(pts)
            if not len(good):
                break
            chosen.append(good[0])
    if len(chosen) < n:
        return None
    return np.asarray(chosen[:n], dtype=float)


# ----------------------------------------------------------------------------- attributes


def _unique_names(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct pinyin-like names (two syllables, three if more are needed)."""
    pool = [f + s for f, s in itertools.product(_FIRST_SYLLABLES, _SECOND_SYLLABLES)]
    pool = [p for p in pool if p != COUNTY_SEAT_TOWNSHIP]
    if n > len(pool):
        pool += [
            f + s + t
            for f, s, t in itertools.product(_FIRST_SYLLABLES, _SECOND_SYLLABLES, _SECOND_SYLLABLES)
            if s != t
        ]
    if n > len(pool):
        raise ValueError(f"cannot make {n} distinct names")
    picks = rng.choice(len(pool), size=n, replace=False)
    return [pool[int(i)] for i in picks]


def _round_lonlat(transformer: Transformer, xy: FloatArray) -> FloatArray:
    """Projected ``(n, 2)`` metres → lon/lat degrees rounded to 7 decimals."""
    lon, lat = transformer.transform(xy[:, 0], xy[:, 1])
    return np.round(np.column_stack([lon, lat]), COORDINATE_DECIMALS)


def _village_table(
    rng: np.random.Generator,
    to_lonlat: Transformer,
    *,
    xy: FloatArray,
    township: IntArray,
    population: IntArray,
    is_remote: npt.NDArray[np.bool_],
    village_names: Sequence[str],
    township_names: Sequence[str],
) -> pd.DataFrame:
    """The ``villages.csv`` table (plus a ``_remote`` flag), ordered by township, west to east.

    Households are population / 2.9–3.3; 15 % of the villages get an existing station,
    drawn with weight ~ population^1.2 (never a remote one); 30 % produce 20–400 kg/day
    (log-uniform).
    """
    n = len(xy)
    order = np.lexsort((xy[:, 0], township))  # by township, then west to east
    xy, township, population, is_remote = (
        xy[order],
        township[order],
        population[order],
        is_remote[order],
    )
    households = np.maximum(1, np.round(population / rng.uniform(2.9, 3.3, size=n))).astype(
        np.int64
    )
    # Existing stations: 15 % of the villages, drawn with weight ~ population (never a
    # remote one); produce: 30 % of the villages.
    weight = np.where(is_remote, 0.0, (population / 900.0) ** 1.2)
    n_stations = min(round(0.15 * n), int(np.count_nonzero(weight)))
    existing = np.zeros(n, dtype=bool)
    existing[rng.choice(n, size=n_stations, replace=False, p=weight / weight.sum())] = True
    grows = np.zeros(n, dtype=bool)
    grows[rng.choice(n, size=round(0.3 * n), replace=False)] = True
    produce = np.exp(rng.uniform(math.log(20.0), math.log(400.0), size=n))
    produce_kg = np.where(grows, np.round(np.clip(produce, 20.0, 400.0), 1), 0.0)
    lonlat = _round_lonlat(to_lonlat, xy)
    width = max(3, len(str(n)))
    return pd.DataFrame(
        {
            "id": [f"V{k + 1:0{width}d}" for k in range(n)],
            "name": list(village_names[:n]),
            "township": [township_names[int(t)] for t in township],
            "population": population.astype(np.int64),
            "households": households,
            "existing_station": np.where(existing, "true", "false"),
            "produce_kg_per_day": produce_kg,
            "lon": lonlat[:, 0],
            "lat": lonlat[:, 1],
            "_remote": is_remote,
        }
    )


def _project_geometry(geom: shapely.Geometry, to_lonlat: Transformer) -> shapely.Geometry:
    """``geom`` in lon/lat, every coordinate rounded to 7 decimals."""
    return shapely.transform(geom, lambda xy: _round_lonlat(to_lonlat, xy))


def _road_frame(roads: list[_Road], to_lonlat: Transformer) -> gpd.GeoDataFrame:
    """Roads in EPSG:4326; every distinct projected vertex is transformed and rounded once."""
    order = sorted(
        range(len(roads)),
        key=lambda k: ({"county": 0, "township": 1, "village": 2}[roads[k].road_class], k),
    )
    ordered = [roads[k] for k in order]
    coords = np.asarray([c for r in ordered for c in r.coords], dtype=float)
    unique, inverse = np.unique(coords, axis=0, return_inverse=True)
    lonlat = _round_lonlat(to_lonlat, unique)[inverse.reshape(-1)]
    geoms: list[shapely.LineString] = []
    start = 0
    for r in ordered:
        pts = lonlat[start : start + len(r.coords)]
        start += len(r.coords)
        keep = np.ones(len(pts), dtype=bool)
        keep[1:] = np.any(pts[1:] != pts[:-1], axis=1)
        geoms.append(shapely.LineString(pts[keep]))
    counters = {"county": 0, "township": 0, "village": 0}
    names: list[str] = []
    for r in ordered:
        counters[r.road_class] += 1
        k = counters[r.road_class]
        names.append(
            f"X{100 + k:03d}"
            if r.road_class == "county"
            else f"Y{k:03d}"
            if r.road_class == "township"
            else ""
        )
    width = max(4, len(str(len(ordered))))
    return gpd.GeoDataFrame(
        {
            "road_id": [f"R{k + 1:0{width}d}" for k in range(len(ordered))],
            "road_class": [r.road_class for r in ordered],
            "name": names,
        },
        geometry=geoms,
        crs=OUTPUT_CRS,
    )


def _towns_and_depot(
    rng: np.random.Generator,
    to_lonlat: Transformer,
    *,
    seats: FloatArray,
    township_names: Sequence[str],
    county: str,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Town points 20–120 m off their seat junction; the depot 40–90 m off the county seat."""
    n = len(seats)
    dist_m = rng.uniform(20.0, 120.0, size=n)
    angle = rng.uniform(0.0, 2.0 * math.pi, size=n)
    town_xy = seats + np.column_stack([dist_m * np.cos(angle), dist_m * np.sin(angle)])
    town_ll = _round_lonlat(to_lonlat, town_xy)
    towns = gpd.GeoDataFrame(
        {
            "id": [f"T{k + 1:02d}" for k in range(n)],
            "name": list(township_names),
            "township": list(township_names),
        },
        geometry=shapely.points(town_ll),
        crs=OUTPUT_CRS,
    )
    d = rng.uniform(40.0, 90.0)
    a = rng.uniform(0.0, 2.0 * math.pi)
    depot_xy = seats[:1] + np.array([[d * math.cos(a), d * math.sin(a)]])
    depots = gpd.GeoDataFrame(
        {"id": ["DC1"], "name": [f"{county} County Distribution Centre"], "kind": ["county_dc"]},
        geometry=shapely.points(_round_lonlat(to_lonlat, depot_xy)),
        crs=OUTPUT_CRS,
    )
    return towns, depots
