"""Village placement: clustered villages, populations, road anchors, remote villages."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import shapely

from rural_logistics.generate.common import REMOTE_CLEARANCE_M, FloatArray, IntArray
from rural_logistics.generate.roads import Road
from rural_logistics.generate.townships import sample_inside


def place_villages(
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


def draw_populations(rng: np.random.Generator, xy: FloatArray, seat_xy: FloatArray) -> IntArray:
    """Log-normal village populations, larger near the township seat, 120–6000."""
    base = np.exp(rng.normal(math.log(760.0), 0.6, size=len(xy)))
    dist_m = np.hypot(*(xy - seat_xy).T)
    boost = 1.0 + 0.8 * np.exp(-dist_m / 3000.0)
    return np.clip(np.round(base * boost), 120, 6000).astype(np.int64)


def road_anchors(rng: np.random.Generator, xy: FloatArray) -> FloatArray:
    """Road-side points 20–300 m from each village (where its road ends)."""
    dist_m = np.exp(rng.uniform(math.log(25.0), math.log(280.0), size=len(xy)))
    angle = rng.uniform(0.0, 2.0 * math.pi, size=len(xy))
    return xy + np.column_stack([dist_m * np.cos(angle), dist_m * np.sin(angle)])


# ----------------------------------------------------------------------------- roads


def keep_off_roads(
    xy: FloatArray,
    roads: list[Road],
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


def place_remote(
    rng: np.random.Generator,
    outline: shapely.Polygon,
    pockets: FloatArray,
    roads: list[Road],
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
        good = usable(sample_inside(rng, disc, 300))
        if len(good):
            chosen.append(good[0])
    if len(chosen) < n:
        pts = sample_inside(rng, region, 6000)
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
