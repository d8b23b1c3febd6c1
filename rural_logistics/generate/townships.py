"""County outline, township seats and township polygons (projected metres)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import shapely

from rural_logistics.generate.common import XY, FloatArray, IntArray


def make_outline(
    rng: np.random.Generator,
    *,
    centre: XY,
    area_m2: float,
    elongation: float = 1.0,
    orientation_deg: float = 0.0,
) -> shapely.Polygon:
    """A star-shaped county outline from smoothed random radii, scaled to ``area_m2``.

    ``elongation`` > 1 stretches it along ``orientation_deg`` (counter-clockwise from east)
    into a long valley county, length/width about ``elongation``; the area is kept.
    """
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
    if elongation != 1.0:
        angle = math.radians(orientation_deg)
        along = xs * math.cos(angle) + ys * math.sin(angle)
        across = -xs * math.sin(angle) + ys * math.cos(angle)
        along, across = along * math.sqrt(elongation), across / math.sqrt(elongation)
        xs = along * math.cos(angle) - across * math.sin(angle)
        ys = along * math.sin(angle) + across * math.cos(angle)
    unit_area = 0.5 * abs(float(np.dot(xs, np.roll(ys, -1)) - np.dot(ys, np.roll(xs, -1))))
    scale = math.sqrt(area_m2 / unit_area)
    return shapely.Polygon(np.column_stack([centre[0] + scale * xs, centre[1] + scale * ys]))


def sample_inside(rng: np.random.Generator, region: shapely.Geometry, n: int) -> FloatArray:
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


def remote_pockets(
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


def township_seats(
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
        candidates = sample_inside(rng, region, 40)
        ref = np.asarray(seats)
        d = np.min(
            np.hypot(
                candidates[:, None, 0] - ref[None, :, 0], candidates[:, None, 1] - ref[None, :, 1]
            ),
            axis=1,
        )
        seats.append(candidates[int(np.argmax(d))])
    return np.asarray(seats, dtype=float)


def township_polygons(outline: shapely.Polygon, seats: FloatArray) -> list[shapely.Polygon]:
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


def allocate(total: int, weights: FloatArray) -> IntArray:
    """Split ``total`` proportionally to ``weights`` (largest remainder), at least 1 each."""
    n = len(weights)
    share = weights / weights.sum() * (total - n)
    counts = np.floor(share).astype(np.int64)
    rest = total - n - int(counts.sum())
    order = np.argsort(-(share - counts), kind="stable")
    counts[order[:rest]] += 1
    return counts + 1


def containing(polygons: Sequence[shapely.Polygon], seats: FloatArray, xy: FloatArray) -> int:
    """Index of the polygon containing ``xy`` (nearest seat if on no polygon)."""
    point = shapely.Point(float(xy[0]), float(xy[1]))
    for i, poly in enumerate(polygons):
        if poly.covers(point):
            return i
    return int(np.argmin(np.hypot(seats[:, 0] - xy[0], seats[:, 1] - xy[1])))
