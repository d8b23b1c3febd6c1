"""Output layers in lon/lat: place names, the village table, roads, towns and the depot."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import Transformer

from rural_logistics.generate.common import (
    COORDINATE_DECIMALS,
    COUNTY_SEAT_TOWNSHIP,
    OUTPUT_CRS,
    FloatArray,
    IntArray,
)
from rural_logistics.generate.roads import Road

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


# The Chinese character of each syllable, for the ``name_zh`` columns: a place name reads
# as a plausible rural name (东川村, 青石镇); like the pinyin names, none is a real place.
_ZH_FIRST = dict(zip(_FIRST_SYLLABLES, (
    "白", "北", "茶", "大", "东", "枫", "高", "古", "横", "红", "黄",
    "江", "金", "莲", "柳", "龙", "鹿", "马", "梅", "南", "青", "沙",
    "上", "石", "水", "松", "太", "唐", "桃", "田", "王", "西", "下",
    "小", "新", "杨", "玉", "云", "张", "竹",
), strict=True))  # fmt: skip
_ZH_SECOND = dict(zip(_SECOND_SYLLABLES, (
    "坝", "冲", "洞", "坊", "岗", "沟", "河", "家", "坑", "口", "林",
    "岭", "门", "坪", "坡", "铺", "桥", "山", "潭", "塘", "田", "头",
    "湾", "屋", "溪", "垭", "源", "寨", "洲", "川",
), strict=True))  # fmt: skip
_ZH_SPECIAL = {"Chengguan": "城关"}


def chinese_name(pinyin: str, suffix: str = "") -> str:
    """The Chinese name of a generated pinyin name, e.g. ``Dongchuan`` → ``东川`` + suffix.

    Parameters
    ----------
    pinyin
        A name made by :func:`unique_names` (or ``Chengguan``).
    suffix
        Appended, e.g. ``村`` (village), ``镇`` (town).

    Raises
    ------
    ValueError
        If the name is not made of the generator's syllables.
    """
    if pinyin in _ZH_SPECIAL:
        return _ZH_SPECIAL[pinyin] + suffix

    def parse(rest: str, table: dict[str, str]) -> list[str] | None:
        if not rest:
            return []
        for syllable in sorted(table, key=len, reverse=True):
            if rest.startswith(syllable):
                tail = parse(rest[len(syllable):], _ZH_SECOND)
                if tail is not None:
                    return [table[syllable], *tail]
        return None

    chars = parse(pinyin, _ZH_FIRST)
    if chars is None:
        raise ValueError(f"not a generated name: {pinyin!r}")
    return "".join(chars) + suffix


def unique_names(rng: np.random.Generator, n: int) -> list[str]:
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


def village_table(
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
            "name_zh": [chinese_name(v, "村") for v in village_names[:n]],
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


def project_geometry(geom: shapely.Geometry, to_lonlat: Transformer) -> shapely.Geometry:
    """``geom`` in lon/lat, every coordinate rounded to 7 decimals."""
    return shapely.transform(geom, lambda xy: _round_lonlat(to_lonlat, xy))


def make_road_frame(roads: list[Road], to_lonlat: Transformer) -> gpd.GeoDataFrame:
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


def towns_and_depot(
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
            "name_zh": [chinese_name(t, "镇") for t in township_names],
            "township": list(township_names),
        },
        geometry=shapely.points(town_ll),
        crs=OUTPUT_CRS,
    )
    d = rng.uniform(40.0, 90.0)
    a = rng.uniform(0.0, 2.0 * math.pi)
    depot_xy = seats[:1] + np.array([[d * math.cos(a), d * math.sin(a)]])
    depots = gpd.GeoDataFrame(
        {"id": ["DC1"], "name": [f"{county} County Distribution Centre"],
         "name_zh": [chinese_name(county, "县配送中心")], "kind": ["county_dc"]},
        geometry=shapely.points(_round_lonlat(to_lonlat, depot_xy)),
        crs=OUTPUT_CRS,
    )
    return towns, depots
