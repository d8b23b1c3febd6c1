"""OpenStreetMap: read drivable roads, places and boundaries; import a region.

:func:`read_osm_roads` is what ``data.roads`` uses when it names an OSM file;
:func:`~rural_logistics.osm.importer.import_osm` (``rural-logistics import-osm``) writes a
ready-to-run region folder from an extract.
"""

from rural_logistics.osm.read import (
    MAXSPEED_FACTOR,
    OSM_SPEED_KPH,
    OSM_SUFFIXES,
    OsmLayers,
    OsmRoads,
    is_osm_file,
    parse_maxspeed,
    read_osm,
    read_osm_roads,
    select_roads,
)

__all__ = [
    "MAXSPEED_FACTOR",
    "OSM_SPEED_KPH",
    "OSM_SUFFIXES",
    "OsmLayers",
    "OsmRoads",
    "is_osm_file",
    "parse_maxspeed",
    "read_osm",
    "read_osm_roads",
    "select_roads",
]
