"""Constants, array types and the :class:`SyntheticCounty` result of the county generator."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

WORK_CRS = "EPSG:32649"
OUTPUT_CRS = "EPSG:4326"
CENTRE_LON = 110.3
CENTRE_LAT = 27.5
COORDINATE_DECIMALS = 7
COUNTY_SEAT_TOWNSHIP = "Chengguan"
REMOTE_CLEARANCE_M = 2000.0
"""Remote villages have no road closer than this."""

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
XY = tuple[float, float]


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
