"""Per-station terms as routing arrays: each site's window, service time and penalty.

The sites layer carries each station's own terms (NaN where the config default applies,
see :mod:`rural_logistics.io.station_terms`); :func:`site_terms` resolves the defaults —
``routing.station_hours_min`` (else always open), no service time beyond the vehicle
type's ``service_time_min``, ``routing.unserved_penalty_per_parcel`` — into the arrays
of :class:`~rural_logistics.routing.RoutingProblem` (``time_window_min``,
``service_time_min``, ``penalty_weight``). Without any own term and without
``station_hours_min`` the arrays are ``None``, so a plan without them is routed exactly
as before. :func:`site_term_problems` is the check pass's part: windows that close before
they open once the defaults are applied, windows no vehicle's shift reaches, and per-station
terms with a delivery mode that cannot honour them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rural_logistics.config import RegionConfig
from rural_logistics.text import ids_text

#: Ids listed in one message before "and N more".
ID_LIMIT = 10


@dataclass(frozen=True)
class SiteTerms:
    """Routing terms of some sites (rows of the sites layer, in the given order).

    Attributes
    ----------
    window_min
        ``(n, 2)`` earliest and latest start of service, minutes from midnight (``-inf``
        / ``inf`` where open), or ``None`` when every site is always open.
    service_min
        ``(n,)`` minutes at the station on top of the vehicle type's service time, or
        ``None`` when all are 0.
    penalty_weight
        ``(n,)`` the station's unserved penalty per parcel over
        ``routing.unserved_penalty_per_parcel``, or ``None`` when all are 1.
    """

    window_min: np.ndarray | None
    service_min: np.ndarray | None
    penalty_weight: np.ndarray | None


def _column(sites: pd.DataFrame, name: str) -> np.ndarray:
    if name not in sites.columns:
        return np.full(len(sites), np.nan)
    return sites[name].to_numpy(dtype=float)


def resolved_windows(config: RegionConfig, sites: pd.DataFrame) -> np.ndarray:
    """``(n, 2)`` window of every site with the defaults applied (``-inf``/``inf``:
    open)."""
    hours = config.routing.station_hours_min
    default_open, default_close = (-math.inf, math.inf) if hours is None else hours
    opens = _column(sites, "tw_open_min")
    closes = _column(sites, "tw_close_min")
    return np.column_stack([
        np.where(np.isfinite(opens), opens, default_open),
        np.where(np.isfinite(closes), closes, default_close),
    ])


def site_terms(config: RegionConfig, sites: pd.DataFrame) -> SiteTerms:
    """The routing terms of ``sites`` (rows of the sites layer)."""
    own_window = np.isfinite(_column(sites, "tw_open_min")) | np.isfinite(
        _column(sites, "tw_close_min"))
    window = None
    if config.routing.station_hours_min is not None or own_window.any():
        window = resolved_windows(config, sites)
    service = np.nan_to_num(_column(sites, "service_time_min"), nan=0.0)
    penalty = _column(sites, "unserved_penalty_per_parcel")
    default = config.routing.unserved_penalty_per_parcel
    weight = np.where(np.isfinite(penalty), penalty / default, 1.0)
    return SiteTerms(
        window_min=window,
        service_min=service if np.any(service > 0) else None,
        penalty_weight=weight if np.any(weight != 1.0) else None,
    )


def has_own_terms(sites: pd.DataFrame) -> bool:
    """Whether any site has a term of its own."""
    return any(
        np.isfinite(_column(sites, name)).any()
        for name in ("tw_open_min", "tw_close_min", "service_time_min",
                     "unserved_penalty_per_parcel")
    )


def _source(config: RegionConfig, village_id: object) -> Path:
    """The file a site's row comes from."""
    data = config.data
    if data.candidate_sites is not None:
        return data.candidate_sites
    if village_id is None or (isinstance(village_id, float) and math.isnan(village_id)):
        return data.towns if data.towns is not None else data.villages
    return data.villages


def site_term_problems(config: RegionConfig, sites: pd.DataFrame) -> list[str]:
    """What makes the per-station terms impossible, one line per file and kind.

    - a window that closes before it opens once ``routing.station_hours_min`` fills the
      blank side;
    - a window no vehicle can serve within: it closes before the earliest
      ``shift_start_min`` or opens after the latest shift end (``shift_start_min +
      max_route_duration_min``);
    - own terms with ``hubs`` (the two-echelon stage has no station windows, service
      times or penalties of its own).
    """
    problems: list[str] = []
    if len(sites) == 0:
        return problems
    ids = sites["site_id"].astype(str).to_numpy()
    sources = [_source(config, v) for v in sites["village_id"].to_numpy()]
    if config.hubs is not None and has_own_terms(sites):
        problems.append(
            "routing.columns: per-station time windows, service times and penalties are not "
            "supported with hubs (the two-echelon stage has no station terms); remove the "
            "columns from the sites layer or the hubs section"
        )
        return problems
    window = resolved_windows(config, sites)
    own = np.isfinite(_column(sites, "tw_open_min")) | np.isfinite(
        _column(sites, "tw_close_min"))
    columns = config.routing.columns
    names = (f"{columns.column('time_window_open')!r}/"
             f"{columns.column('time_window_close')!r}")
    hours = config.routing.station_hours_min
    reversed_ = own & (window[:, 1] <= window[:, 0])
    _by_file(problems, sources, ids, reversed_, (
        f"columns {names}: the window of station site(s) {{ids}} closes before it opens "
        f"once routing.station_hours_min {list(hours) if hours else ''} fills the blank side"
    ))
    starts = [v.shift_start_min for v in config.fleet.vehicles]
    ends = [v.shift_start_min + v.max_route_duration_min for v in config.fleet.vehicles]
    early, late = min(starts), max(ends)
    outside = own & ~reversed_ & ((window[:, 1] < early) | (window[:, 0] > late))
    _by_file(problems, sources, ids, outside, (
        f"columns {names}: the window of station site(s) {{ids}} lies outside every "
        f"vehicle's shift ({early:g}–{late:g} min from midnight): no vehicle could serve it"
    ))
    return problems


def _by_file(
    problems: list[str], sources: list[Path], ids: np.ndarray, bad: np.ndarray, text: str
) -> None:
    """One line per file holding bad rows: ``text`` with ``{ids}`` replaced by their ids."""
    by_file: dict[Path, list[str]] = {}
    for k in np.flatnonzero(bad):
        by_file.setdefault(sources[k], []).append(str(ids[k]))
    for path, bad_ids in by_file.items():
        problems.append(f"{path}: " + text.replace("{ids}", ids_text(bad_ids, limit=ID_LIMIT)))
