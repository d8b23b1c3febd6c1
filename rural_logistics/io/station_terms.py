"""Per-station terms from the sites layer: opening window, service time, unserved penalty.

A station sits at a candidate site: a village (the default sites), a town, or a row of
``data.candidate_sites``. Those layers may carry a station's own terms in columns named
by ``routing.columns`` (defaults :data:`rural_logistics.config.STATION_COLUMN_DEFAULTS`):

``time_window_open``, ``time_window_close``
    Minutes from midnight (0–2880) within which service must start.
``service_time``
    Minutes spent at the station on top of the vehicle type's ``service_time_min``.
``unserved_penalty``
    Currency per parcel left unserved at the station.

A blank cell takes the config default (``routing.station_hours_min``, no extra service
time, ``routing.unserved_penalty_per_parcel``). Every bad value is one problem line naming
the file, the column and the id; a configured column the layer lacks is a problem too.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from rural_logistics.config import STATION_COLUMN_DEFAULTS, StationColumns
from rural_logistics.io.formats import MAX_LINES_PER_CHECK
from rural_logistics.io.formats import more as _more

#: Column of the sites layer (as the tool names it) per ``routing.columns`` key.
TERM_COLUMNS = {
    "time_window_open": "tw_open_min",
    "time_window_close": "tw_close_min",
    "service_time": "service_time_min",
    "unserved_penalty": "unserved_penalty_per_parcel",
}
#: Accepted range and what a value means, per key.
_RANGES = {
    "time_window_open": (0.0, 2880.0, True, "minutes from midnight, 0 to 2880"),
    "time_window_close": (0.0, 2880.0, True, "minutes from midnight, 0 to 2880"),
    "service_time": (0.0, 1440.0, True, "minutes, 0 to 1440"),
    "unserved_penalty": (0.0, 1e6, False, "currency per parcel, above 0 and at most 1e6"),
}


def term_column_names(columns: StationColumns) -> list[str]:
    """The layer column names of the terms (for Shapefile name restoring)."""
    return [columns.column(key) for key in STATION_COLUMN_DEFAULTS]


def empty_terms(n: int) -> pd.DataFrame:
    """Terms of ``n`` sites without their own values (every cell the config default)."""
    return pd.DataFrame({name: np.full(n, np.nan) for name in TERM_COLUMNS.values()})


def read_station_terms(
    gdf: pd.DataFrame,
    path: Path,
    labels: np.ndarray,
    columns: StationColumns,
    problems: list[str],
    *,
    required: bool = True,
) -> tuple[pd.DataFrame, list[str]]:
    """The terms of each row of a sites layer, checked.

    Parameters
    ----------
    gdf
        The layer as read (Shapefile names already restored).
    path
        Its file, for messages.
    labels
        ``"village V12"`` etc. per row, for messages.
    columns
        ``routing.columns``.
    problems
        Where bad values go (one line each).
    required
        Whether a configured column the layer lacks is a problem (the layer that holds
        the stations); the towns layer may lack it (its sites take the defaults).

    Returns
    -------
    terms, present
        :data:`TERM_COLUMNS` per row (NaN = the config default), and the keys whose
        column the layer has.
    """
    out = empty_terms(len(gdf))
    present: list[str] = []
    have = ", ".join(str(c) for c in gdf.columns if c != "geometry") or "none"
    for key, target in TERM_COLUMNS.items():
        name = columns.column(key)
        if name not in gdf.columns:
            if required and getattr(columns, key) is not None:
                problems.append(
                    f"{path}: routing.columns.{key}: column {name!r} is not in the layer "
                    f"(has: {have})"
                )
            continue
        present.append(key)
        raw = pd.Series(gdf[name].to_numpy(), dtype=object)
        text = raw.where(raw.notna(), "").astype(str).str.strip()
        blank = text.isin(["", "nan", "NaN", "None", "<NA>"]).to_numpy()
        values = pd.to_numeric(text.where(~blank, None), errors="coerce").to_numpy(dtype=float)
        low, high, low_ok, meaning = _RANGES[key]
        above_low = values >= low if low_ok else values > low
        bad = ~blank & ~(np.isfinite(values) & above_low & (values <= high))
        for k in np.flatnonzero(bad)[:MAX_LINES_PER_CHECK]:
            got = f"{values[k]:g}" if np.isfinite(values[k]) else repr(text.iloc[k])
            problems.append(f"{path}: {labels[k]}: column {name!r} must be {meaning} (got {got})")
        _more(problems, path, int(bad.sum()), f"bad values in column {name!r}")
        out[target] = np.where(blank | bad, np.nan, values)
    opens, closes = out["tw_open_min"].to_numpy(), out["tw_close_min"].to_numpy()
    reversed_ = np.isfinite(opens) & np.isfinite(closes) & (closes <= opens)
    open_name = columns.column("time_window_open")
    close_name = columns.column("time_window_close")
    for k in np.flatnonzero(reversed_)[:MAX_LINES_PER_CHECK]:
        problems.append(
            f"{path}: {labels[k]}: column {close_name!r} ({closes[k]:g}) must be after "
            f"{open_name!r} ({opens[k]:g}): the window closes before it opens"
        )
    _more(problems, path, int(reversed_.sum()), "windows that close before they open")
    return out, present


def terms_note(path: Path, terms: pd.DataFrame, columns: StationColumns, what: str) -> str | None:
    """A note saying which per-station terms a layer gives and for how many rows."""
    parts = []
    for key, target in TERM_COLUMNS.items():
        n = int(np.isfinite(terms[target].to_numpy(dtype=float)).sum())
        if n:
            parts.append(f"{columns.column(key)!r} for {n}")
    if not parts:
        return None
    return (
        f"{path}: per-station terms read ({', '.join(parts)} {what}s); blank cells take the "
        "config defaults"
    )


def with_terms(gdf: gpd.GeoDataFrame, terms: pd.DataFrame) -> gpd.GeoDataFrame:
    """``gdf`` with the term columns added before its geometry."""
    out = gdf.copy()
    geometry = out.pop("geometry")
    for name in TERM_COLUMNS.values():
        out[name] = terms[name].to_numpy(dtype=float)
    out["geometry"] = geometry
    return gpd.GeoDataFrame(out, geometry="geometry", crs=geometry.crs)


def town_terms_notes(
    villages: pd.DataFrame, towns: pd.DataFrame, towns_path: Path
) -> list[str]:
    """A note when the villages give per-station terms and the towns layer none: the town
    sites take the config defaults."""
    given = [
        name for name in TERM_COLUMNS.values()
        if name in villages.columns and np.isfinite(villages[name].to_numpy(dtype=float)).any()
        and not (name in towns.columns
                 and np.isfinite(towns[name].to_numpy(dtype=float)).any())
    ]
    if not given:
        return []
    return [
        f"{towns_path}: no values for {', '.join(given)} (the villages have some): stations "
        "at towns take the config defaults"
    ]
