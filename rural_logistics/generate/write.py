"""Writing a generated county to files (CSV, GeoPackage, GeoJSON)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio

from rural_logistics.errors import OutputError
from rural_logistics.generate.common import SyntheticCounty

FILE_NAMES: dict[str, str] = {
    "villages": "villages.csv",
    "roads": "roads.gpkg",
    "depots": "depots.geojson",
    "towns": "towns.geojson",
    "townships": "townships.gpkg",
}


def write_county(county: SyntheticCounty, out_dir: Path) -> dict[str, Path]:
    """Write the layers of ``county`` into ``out_dir``.

    GeoPackages get a fixed timestamp so that the same county gives the same bytes.

    Parameters
    ----------
    county
        From :func:`make_county`.
    out_dir
        Folder; created if missing. Files of the same names are replaced.

    Returns
    -------
    dict of str to Path
        Written files keyed ``villages, roads, depots, towns, townships``.

    Raises
    ------
    OutputError
        If ``out_dir`` exists and is not a folder, or cannot be created.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir}: exists and is not a folder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot create the folder ({exc})") from exc
    paths = {key: out_dir / name for key, name in FILE_NAMES.items()}
    for path in paths.values():
        path.unlink(missing_ok=True)

    county.villages.to_csv(paths["villages"], index=False)
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2026-01-01T00:00:00Z"})
    try:
        county.roads.to_file(paths["roads"], layer="roads", driver="GPKG", engine="pyogrio")
        county.townships.to_file(
            paths["townships"], layer="townships", driver="GPKG", engine="pyogrio"
        )
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})
    for key in ("depots", "towns"):
        frame: gpd.GeoDataFrame = getattr(county, key)
        frame.to_file(paths[key], driver="GeoJSON", engine="pyogrio", COORDINATE_PRECISION=7)
    return paths
