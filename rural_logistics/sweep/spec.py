"""What a sweep runs: the swept values, parsed from the command line and checked.

``--stations 10:120:5`` (first:last:step, both ends included) or ``10,20,40``;
``--radius-km 2,3,5`` or ``2:5:0.5``; ``--target coverage=0.9`` (or ``coverage=90%``).
Every problem is one line naming the option and the value at fault.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rural_logistics.errors import ConfigError

#: Placement methods that open a given number of stations (the ones a sweep over
#: ``--stations`` can drive).
K_METHODS = ("p_median", "max_coverage")
#: Most points one sweep may have (stations × radii).
MAX_POINTS = 2000


@dataclass(frozen=True)
class SweepSpec:
    """The values swept and what is asked of each point.

    Attributes
    ----------
    stations
        Numbers of stations, ascending, no repeats.
    radii_km
        Service radii for coverage, in the order given (the first is the one drawn on the
        maps); empty: the config's ``placement.radius_km``.
    method
        Placement model per point (``p_median`` or ``max_coverage``); ``None``: the
        config's ``placement.method``.
    route
        Route the vehicles for each plan (``False``: placement only).
    target_coverage
        Share of people within the radius to reach with the fewest stations, or ``None``.
    """

    stations: tuple[int, ...]
    radii_km: tuple[float, ...] = ()
    method: str | None = None
    route: bool = False
    target_coverage: float | None = None


def _numbers(text: str, option: str, *, integer: bool) -> list[float]:
    """``a:b:step`` (both ends included) or ``a,b,c``."""
    what = "whole numbers" if integer else "numbers"
    try:
        if ":" in text:
            parts = text.split(":")
            if len(parts) != 3:
                raise ValueError
            first, last, step = (float(p) for p in parts)
            if not all(math.isfinite(v) for v in (first, last, step)):
                raise ValueError
            if step <= 0 or last < first:
                raise ConfigError(
                    f"{option} {text}: expected FIRST:LAST:STEP with FIRST <= LAST and "
                    "STEP > 0"
                )
            count = math.floor((last - first) / step + 1e-9) + 1
            if count > MAX_POINTS:
                raise ConfigError(f"{option} {text}: {count} values, at most {MAX_POINTS}")
            values = [first + k * step for k in range(count)]
        else:
            values = [float(p) for p in text.split(",") if p.strip()]
            if not values or not all(math.isfinite(v) for v in values):
                raise ValueError
    except ValueError:
        raise ConfigError(
            f"{option} {text!r}: expected FIRST:LAST:STEP or a comma-separated list of {what}"
        ) from None
    if integer and any(v != round(v) for v in values):
        raise ConfigError(f"{option} {text}: expected {what}")
    return [round(v, 9) for v in values]


def parse_stations(text: str) -> tuple[int, ...]:
    """``--stations``: whole numbers ≥ 1, sorted, repeats dropped."""
    values = sorted({int(v) for v in _numbers(text, "--stations", integer=True)})
    if values[0] < 1:
        raise ConfigError(f"--stations {text}: every number of stations must be at least 1")
    return tuple(values)


def parse_radii(text: str) -> tuple[float, ...]:
    """``--radius-km``: positive kilometres, in the order given (repeats dropped)."""
    values = list(dict.fromkeys(_numbers(text, "--radius-km", integer=False)))
    if min(values) <= 0:
        raise ConfigError(f"--radius-km {text}: every radius must be above 0 km")
    return tuple(values)


def parse_target(text: str) -> float:
    """``--target coverage=X``: the share of people within the radius (0 < X <= 1,
    or a percentage such as ``90%``)."""
    key, sep, value = text.partition("=")
    if key.strip() != "coverage" or not sep:
        raise ConfigError(
            f"--target {text!r}: expected coverage=SHARE (e.g. coverage=0.9 or coverage=90%)"
        )
    raw = value.strip()
    try:
        share = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise ConfigError(f"--target {text!r}: {raw!r} is not a number") from None
    if not 0 < share <= 1:
        raise ConfigError(f"--target {text!r}: the coverage share must be above 0 and at most 1")
    return share
