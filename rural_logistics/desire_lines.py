"""The desire-lines layer of a plan: one straight line per village to its station.

A desire line shows who goes where, not the road taken: from the village point to the
point of the station it is assigned to, with the figures of the village's access (road
``access_km`` and ``access_min``, off-road legs included, from the villages layer) and
the straight-line length for comparison. A village that hosts its own station has a
zero-length line (both ends at the same point), so the layer has one row per village with
a station and its count equals theirs; ``served`` repeats the villages layer's flag.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from rural_logistics.region import PreparedRegion

#: Columns of the layer (then the LineString geometry).
DESIRE_LINE_COLUMNS = (
    "village_id", "village_name", "station_id", "station_name", "township",
    "parcels_per_day", "access_km", "access_min", "straight_km", "served",
)


def desire_lines_layer(prepared: PreparedRegion, villages: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One LineString per village with a station, village → station.

    Parameters
    ----------
    prepared
        The prepared region (the station points are the candidate sites').
    villages
        The plan's villages layer (``village_id, name, township, parcels_per_day,
        station_id, access_km, access_min``, optionally ``served``).

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`DESIRE_LINE_COLUMNS` and a LineString geometry, in the villages' CRS.
    """
    sites = prepared.data.sites
    site_ids = sites["site_id"].astype(str).to_numpy()
    point_of = dict(zip(site_ids, sites.geometry.to_numpy(), strict=True))
    name_of = dict(zip(site_ids, sites["name"].astype(str).to_numpy(), strict=True))
    station = villages["station_id"]
    has = station.notna().to_numpy() & (station.astype(str) != "").to_numpy()
    rows = villages[has]
    station_ids = rows["station_id"].astype(str).to_numpy()
    starts = rows.geometry.to_numpy()
    ends = np.array([point_of[s] for s in station_ids], dtype=object)
    coords = np.stack([shapely.get_coordinates(starts), shapely.get_coordinates(ends)], axis=1)
    lines = shapely.linestrings(coords)
    served = (rows["served"].to_numpy(dtype=bool) if "served" in rows.columns
              else np.ones(len(rows), dtype=bool))
    frame = pd.DataFrame({
        "village_id": rows["village_id"].to_numpy(),
        "village_name": rows["name"].to_numpy(),
        "station_id": station_ids,
        "station_name": [name_of[s] for s in station_ids],
        "township": rows["township"].to_numpy(),
        "parcels_per_day": rows["parcels_per_day"].to_numpy(dtype=float),
        "access_km": rows["access_km"].to_numpy(dtype=float),
        "access_min": rows["access_min"].to_numpy(dtype=float),
        "straight_km": np.round(shapely.length(lines) / 1000.0, 3),
        "served": served,
    }, columns=list(DESIRE_LINE_COLUMNS))
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(lines, crs=villages.crs),
                            crs=villages.crs)
