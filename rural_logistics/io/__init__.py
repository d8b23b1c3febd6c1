"""Input files → GeoDataFrames in one projected CRS.

Supported formats: GeoPackage (``.gpkg``, one layer or the one named in ``data.layers``),
GeoJSON (``.geojson``/``.json``), Shapefile (``.shp``, column names cut to 10 characters
restored), CSV with longitude/latitude columns (WGS 84, or GCJ-02/BD-09 converted), and
OpenStreetMap files (``.osm.pbf``, ``.osm``, ``.osm.gz``, ``.osm.bz2``) for roads. Every
layer is checked against the data contract in the README; all problems are collected and
raised together as one :class:`~rural_logistics.errors.InputDataError`, one line each
naming the file and the row id or column at fault.

Modules: :mod:`~rural_logistics.io.formats` (one file), :mod:`~rural_logistics.io.coords`
(GCJ-02/BD-09), :mod:`~rural_logistics.io.layers` (each layer's checks),
:mod:`~rural_logistics.io.checks` (what the data means), :mod:`~rural_logistics.io.region`
(the whole region).
"""

from rural_logistics.io.formats import MAX_LINES_PER_CHECK, WGS84, read_layer
from rural_logistics.io.layers import (
    MAX_PRODUCE_KG_PER_DAY,
    MAX_SPEED_KPH,
    MAX_VILLAGE_POPULATION,
    build_candidate_sites,
)
from rural_logistics.io.region import (
    RegionData,
    check_extent,
    read_region,
    read_travel_matrix,
    resolve_crs,
)

__all__ = [
    "MAX_LINES_PER_CHECK",
    "MAX_PRODUCE_KG_PER_DAY",
    "MAX_SPEED_KPH",
    "MAX_VILLAGE_POPULATION",
    "WGS84",
    "RegionData",
    "build_candidate_sites",
    "check_extent",
    "read_layer",
    "read_region",
    "read_travel_matrix",
    "resolve_crs",
]
