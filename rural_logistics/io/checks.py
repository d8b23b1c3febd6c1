"""Checks that say what the data means: speeds that are guesses, a raw OpenStreetMap
layer taken for roads, a working CRS that stretches distances, villages counted twice.

Each returns lines (problems or notes) naming the file, the setting and the numbers, for
:func:`rural_logistics.io.read_region` to collect.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS, Proj
from scipy.spatial import cKDTree

from rural_logistics.config import NetworkSettings
from rural_logistics.text import ids_text

#: Scale error of the working CRS at the villages above which a run warns (1 %) or stops
#: (5 %): every road length, travel time and cost is off by that much.
SCALE_WARN = 0.01
SCALE_ERROR = 0.05
#: Villages closer than this are "at the same point" (counted twice?).
COINCIDENT_M = 1.0
#: Villages with the same name closer than this are possible duplicates.
SAME_NAME_M = 500.0
#: Columns that mark a layer as a raw OpenStreetMap export (``ogr2ogr`` of a .pbf).
_OSM_MARKERS = ("waterway", "railway", "other_tags", "aerialway", "man_made", "barrier")
_LIST = 8


def _listing(counts: Mapping[str, float], unit: str = "") -> str:
    items = sorted(counts.items(), key=lambda kv: -kv[1])
    return ids_text((f"{k} {v:,.0f}{unit}" for k, v in items), limit=_LIST)


def default_speed_notes(
    path: Path,
    classes: np.ndarray,
    own_speed: np.ndarray,
    length_m: np.ndarray,
    *,
    known: set[str],
    network: NetworkSettings,
    class_present: bool,
) -> list[str]:
    """Warnings for roads that run at ``network.default_speed_kph``: no class, or a class
    not in ``speed_kph_by_class``, and no speed of their own (counts and km)."""
    fallback = ~own_speed
    if not fallback.any():
        return []
    default = network.default_speed_kph
    notes = []
    empty = fallback & (classes == "")
    if empty.any():
        reason = (
            f"the layer has no {network.road_class_col!r} column"
            if not class_present
            else f"their {network.road_class_col!r} is empty"
        )
        notes.append(
            f"{path}: {int(empty.sum())} roads ({length_m[empty].sum() / 1000:,.1f} km) run at "
            f"network.default_speed_kph = {default:g} km/h: {reason} and no "
            f"{network.speed_col!r} (set network.road_class_column, or give them a speed)"
        )
    unknown = fallback & (classes != "") & ~np.isin(classes, list(known))
    if unknown.any():
        by_class = pd.Series(length_m[unknown] / 1000).groupby(classes[unknown]).sum()
        km = {str(k): float(v) for k, v in by_class.items()}
        notes.append(
            f"{path}: {int(unknown.sum())} roads ({length_m[unknown].sum() / 1000:,.1f} km) run "
            f"at network.default_speed_kph = {default:g} km/h: their class is not in "
            f"network.speed_kph_by_class ({_listing(km, ' km')})"
        )
    return notes


def raw_osm_problem(
    gdf: gpd.GeoDataFrame, path: Path, class_column: str, speeds: Mapping[str, float]
) -> str | None:
    """A raw OpenStreetMap lines layer (rivers, railways, footpaths next to roads) given as
    roads: a problem line with what is not a road, else ``None``."""
    if "highway" not in gdf.columns or not any(c in gdf.columns for c in _OSM_MARKERS):
        return None
    from rural_logistics.osm import OSM_SPEED_KPH

    drivable = {k.lower() for k in OSM_SPEED_KPH} | {k.lower() for k in speeds}
    highway = gdf["highway"].where(gdf["highway"].notna(), "").astype(str).str.strip().str.lower()
    counts: dict[str, int] = {}
    no_highway = highway == ""
    if no_highway.any():
        kinds = []
        for column in ("waterway", "railway", "aerialway", "barrier", "man_made"):
            if column in gdf.columns:
                n = int((no_highway & gdf[column].notna()).sum())
                if n:
                    kinds.append(f"{column} {n}")
        counts["no highway tag" + (f" ({', '.join(kinds)})" if kinds else "")] = int(
            no_highway.sum())
    other = highway[(highway != "") & ~highway.isin(list(drivable))]
    for value, n in other.value_counts().items():
        counts[f"highway={value}"] = int(n)
    if not counts:
        return None
    total = sum(counts.values())
    return (
        f"{path}: looks like a raw OpenStreetMap lines layer: {total} of {len(gdf)} lines are "
        f"not roads for vans ({_listing(counts)}); import the extract with `rural-logistics "
        "import-osm`, give the .osm.pbf as data.roads, or keep only drivable highway values"
    )


def scale_error(crs: str, lon: np.ndarray, lat: np.ndarray) -> tuple[float, int]:
    """Largest relative scale error of ``crs`` at the points, and the index of that point.

    The scale error is ``max(|h − 1|, |k − 1|)`` of the projection's meridional (h) and
    parallel (k) scale factors: 0.47 means distances come out 47 % too long.
    """
    proj = Proj(CRS.from_user_input(crs))
    factors = proj.get_factors(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    err = np.maximum(np.abs(np.asarray(factors.meridional_scale) - 1),
                     np.abs(np.asarray(factors.parallel_scale) - 1))
    err = np.where(np.isfinite(err), err, np.inf)
    worst = int(np.argmax(err))
    return float(err[worst]), worst


def scale_check(
    crs: str, villages_wgs84: gpd.GeoDataFrame, path: Path, setting: str
) -> tuple[list[str], list[str]]:
    """(problems, notes) for the working CRS's scale error at the villages."""
    if len(villages_wgs84) == 0:
        return [], []
    lon = villages_wgs84.geometry.x.to_numpy()
    lat = villages_wgs84.geometry.y.to_numpy()
    try:
        err, k = scale_error(crs, lon, lat)
    except Exception:  # a CRS pyproj cannot evaluate factors for: no check
        return [], []
    if err <= SCALE_WARN:
        return [], []
    auto = villages_wgs84.estimate_utm_crs()
    auth = auto.to_authority()
    suggestion = f"{auth[0]}:{auth[1]}" if auth else "auto"
    text = (
        f"region.crs: {setting!r} ({crs}) stretches distances by up to {err:.1%} at these "
        f"villages (village at {lon[k]:.4f}, {lat[k]:.4f}): every km, minute and cost would be "
        f"that much off; use region.crs: auto (here {suggestion}) or the local UTM zone"
    )
    return ([f"{path}: {text}"], []) if err > SCALE_ERROR else ([], [f"{path}: {text}"])


def coincident_village_notes(villages: gpd.GeoDataFrame, path: Path) -> list[str]:
    """Warnings for villages at the same point (≤ 1 m) and same-named villages ≤ 500 m
    apart: each is counted with its full population, so a duplicate counts twice."""
    if len(villages) < 2:
        return []
    xy = np.column_stack([villages.geometry.x.to_numpy(), villages.geometry.y.to_numpy()])
    tree = cKDTree(xy)
    ids = villages["village_id"].astype(str).to_numpy()
    notes = []
    pairs = sorted(tree.query_pairs(COINCIDENT_M))
    if pairs:
        shown = ids_text((f"{ids[a]} and {ids[b]}" for a, b in pairs), limit=_LIST)
        notes.append(
            f"{path}: {len(pairs)} pair(s) of villages at the same point (within "
            f"{COINCIDENT_M:g} m): {shown}; each is counted with its population (a "
            "duplicate row counts twice): remove duplicates or merge them"
        )
    names = villages["name"].astype(str).to_numpy()
    near = [
        (a, b) for a, b in sorted(tree.query_pairs(SAME_NAME_M))
        if names[a] == names[b] and names[a] not in ("", ids[a]) and (a, b) not in set(pairs)
    ]
    if near:
        shown = ids_text((f"{ids[a]} and {ids[b]} ({names[a]})" for a, b in near), limit=_LIST)
        notes.append(
            f"{path}: {len(near)} pair(s) of villages with the same name within "
            f"{SAME_NAME_M:g} m: {shown}; check they are not one village listed twice"
        )
    return notes
