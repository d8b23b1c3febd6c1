"""A seeded synthetic county for demos and tests.

:func:`generate_county` writes a made-up county shaped like a hilly county of
south-central China: an irregular outline, townships (Voronoi cells of their seats),
administrative villages clustered around the township seats, a hierarchical road network
(``county`` roads between township seats, ``township`` road trees through the larger
villages, ``village`` spurs to the rest) and a few remote mountain villages with no road
within 2 km. Nothing in it is a real place.

Everything is built in UTM zone 49N (EPSG:32649, metres) around lon 110.3 E, lat 27.5 N
and written in WGS 84 lon/lat (EPSG:4326) rounded to 7 decimals (about 1 cm).

Road noding guarantee: roads meet **only** at shared vertices. Every junction (a spur
joining a road, a township road leaving a seat, two roads crossing) is a vertex of every
line that passes through it, and a shared vertex is transformed and rounded once, so it is
bit-identical in all those lines in the written file. Without the remote villages the
road network is one connected component. Free line ends are dead ends next to a village.

The same ``seed`` always gives the same data; only :func:`numpy.random.default_rng` is
used (no global random state).

Modules: :mod:`~rural_logistics.generate.county` (:func:`make_county`,
:func:`generate_county`), :mod:`~rural_logistics.generate.townships` (outline, townships),
:mod:`~rural_logistics.generate.villages`, :mod:`~rural_logistics.generate.roads`,
:mod:`~rural_logistics.generate.tables` (lon/lat layers, names),
:mod:`~rural_logistics.generate.write` (files) and
:mod:`~rural_logistics.generate.province` (:func:`generate_province`: many counties of
varied size and shape, their configs and a manifest for ``rural-logistics batch``); shared
constants and types in :mod:`~rural_logistics.generate.common`.
"""

from rural_logistics.generate.common import (
    CENTRE_LAT,
    CENTRE_LON,
    COORDINATE_DECIMALS,
    COUNTY_SEAT_TOWNSHIP,
    OUTPUT_CRS,
    REMOTE_CLEARANCE_M,
    WORK_CRS,
    XY,
    FloatArray,
    IntArray,
    SyntheticCounty,
)
from rural_logistics.generate.county import generate_county, make_county
from rural_logistics.generate.province import (
    CountySpec,
    ProvinceFiles,
    generate_province,
    parse_villages_range,
    plan_province,
)
from rural_logistics.generate.write import FILE_NAMES, write_county

__all__ = [
    "CENTRE_LAT",
    "CENTRE_LON",
    "COORDINATE_DECIMALS",
    "COUNTY_SEAT_TOWNSHIP",
    "FILE_NAMES",
    "OUTPUT_CRS",
    "REMOTE_CLEARANCE_M",
    "WORK_CRS",
    "XY",
    "CountySpec",
    "FloatArray",
    "IntArray",
    "ProvinceFiles",
    "SyntheticCounty",
    "generate_county",
    "generate_province",
    "make_county",
    "parse_villages_range",
    "plan_province",
    "write_county",
]
