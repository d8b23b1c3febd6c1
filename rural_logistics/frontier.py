"""Trade-off curves of a sweep: what each added station buys, and the knee.

Plain arrays in, numbers out; nothing here solves or draws. A curve is a list of points
``(stations, coverage share, cost per day)`` sorted by the number of stations; the cost
may be unknown (``NaN``: placement only, no priced opening).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Step:
    """From one swept point to the next.

    Attributes
    ----------
    from_stations, to_stations
        Stations at both ends.
    coverage_gain
        Coverage share gained (may be negative: a p-median plan with more stations can
        cover fewer people within the radius while it shortens the mean access).
    coverage_per_station
        ``coverage_gain`` per added station.
    cost_added_per_day
        Daily cost added (``NaN`` when either end has no cost).
    coverage_per_1000_per_day
        Coverage share gained per 1,000 currency units of daily cost added (``NaN`` when
        the cost is unknown or does not rise).
    """

    from_stations: int
    to_stations: int
    coverage_gain: float
    coverage_per_station: float
    cost_added_per_day: float
    coverage_per_1000_per_day: float


def steps(stations: np.ndarray, coverage: np.ndarray, cost_per_day: np.ndarray) -> list[Step]:
    """The steps between neighbouring points of a curve (sorted by ``stations``)."""
    k = np.asarray(stations, dtype=float)
    cov = np.asarray(coverage, dtype=float)
    cost = np.asarray(cost_per_day, dtype=float)
    out = []
    for a in range(len(k) - 1):
        b = a + 1
        gain = float(cov[b] - cov[a])
        added = float(cost[b] - cost[a])
        per_money = gain / added * 1000.0 if np.isfinite(added) and added > 0 else float("nan")
        out.append(Step(
            from_stations=int(k[a]),
            to_stations=int(k[b]),
            coverage_gain=gain,
            coverage_per_station=gain / float(k[b] - k[a]),
            cost_added_per_day=added,
            coverage_per_1000_per_day=per_money,
        ))
    return out


def best_step(found: list[Step]) -> int | None:
    """Index of the step that buys the most coverage: per currency unit among the steps
    with a known, rising cost, else (no such step) per added station; ``None`` without
    steps."""
    if not found:
        return None
    per_money = np.array([s.coverage_per_1000_per_day for s in found])
    if np.isfinite(per_money).any():
        return int(np.nanargmax(np.where(np.isfinite(per_money), per_money, np.nan)))
    return int(np.argmax([s.coverage_per_station for s in found]))


def knee(stations: np.ndarray, coverage: np.ndarray) -> int | None:
    """Index of the knee of a rising, flattening curve (Kneedle: the point farthest above
    the chord from the first to the last point, both axes scaled to 0–1).

    ``None`` with fewer than three points, or when no point lies above the chord (a
    straight or bending-up curve has no knee).
    """
    k = np.asarray(stations, dtype=float)
    cov = np.asarray(coverage, dtype=float)
    if len(k) < 3 or k[-1] == k[0] or cov[-1] == cov[0]:
        return None
    x = (k - k[0]) / (k[-1] - k[0])
    y = (cov - cov[0]) / (cov[-1] - cov[0])
    above = y - x
    best = int(np.argmax(above))
    if above[best] <= 1e-9:
        return None
    return best
