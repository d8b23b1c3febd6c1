"""A county at natural-village resolution: thousands of villages, 100,000+ road segments.

:func:`generate_natural_county` writes a county of :func:`make_county` with village lanes
and road shape points every few tens of metres (as in an OpenStreetMap export), and a
config ``county.yaml`` next to the data that plans it with ``rural-logistics solve``.
A natural village has :data:`NATURAL_POPULATION_SHARE` of the people, households and
produce of the administrative village :func:`make_county` draws (at least
:data:`MIN_POPULATION` people).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import shapely
import yaml

from rural_logistics.errors import OutputError
from rural_logistics.generate.common import WORK_CRS
from rural_logistics.generate.county import make_county
from rural_logistics.generate.province import CountySpec, county_config
from rural_logistics.generate.write import FILE_NAMES, write_county

CONFIG_NAME = "county.yaml"
#: Villages per station of the written config (``placement.stations``).
VILLAGES_PER_STATION = 20
#: A natural village's people (and households, produce) as a share of the administrative
#: village the generator draws: a few hamlets make one administrative village.
NATURAL_POPULATION_SHARE = 0.25
#: Fewest people of a natural village.
MIN_POPULATION = 30


@dataclass(frozen=True)
class NaturalCountyFiles:
    """What :func:`generate_natural_county` wrote.

    Attributes
    ----------
    paths
        Data files keyed as :func:`~rural_logistics.generate.write_county` returns them.
    config
        The config ``county.yaml``.
    villages
        Number of villages.
    road_segments
        Number of straight road segments (consecutive vertex pairs) in the road layer.
    road_km
        Total road length, km.
    vertex_spacing_m
        Largest distance between consecutive shape points.
    """

    paths: dict[str, Path]
    config: Path
    villages: int
    road_segments: int
    road_km: float
    vertex_spacing_m: float


def generate_natural_county(
    out_dir: Path,
    *,
    seed: int,
    n_villages: int,
    n_townships: int = 14,
    area_km2: float = 2000.0,
    n_remote: int = 6,
    vertex_spacing_m: float = 25.0,
    time_limit_s: float = 360.0,
    progress: Callable[[str], None] = lambda _: None,
) -> NaturalCountyFiles:
    """Write a seeded natural-village county and its config into ``out_dir``.

    Parameters
    ----------
    out_dir
        Folder; created if missing. Files of the same names are replaced.
    seed, n_villages, n_townships, area_km2, n_remote
        As for :func:`~rural_logistics.generate.make_county`.
    vertex_spacing_m
        Road shape points at most this far apart (10–1000 m).
    time_limit_s
        ``solver.time_limit_s`` of the config.
    progress
        Called with a line of text before each stage.

    Returns
    -------
    NaturalCountyFiles

    Raises
    ------
    ValueError
        If an argument is out of range.
    OutputError
        If ``out_dir`` cannot be written.
    """
    if not (isinstance(time_limit_s, int | float) and 0 < time_limit_s <= 86_400):
        raise ValueError(f"time_limit_s must be a number in (0, 86400], got {time_limit_s!r}")
    start = time.perf_counter()
    progress(f"generating {n_villages:,} villages with lanes and roads (seed {seed}) …")
    county = make_county(
        seed=seed, n_villages=n_villages, n_townships=n_townships, area_km2=area_km2,
        n_remote=n_remote, lanes=True, vertex_spacing_m=vertex_spacing_m,
    )
    villages = county.villages.copy()
    share = NATURAL_POPULATION_SHARE
    villages["population"] = np.maximum(
        MIN_POPULATION, np.round(villages["population"] * share)).astype(np.int64)
    villages["households"] = np.maximum(1, np.round(villages["households"] * share)).astype(
        np.int64)
    villages["produce_kg_per_day"] = np.round(villages["produce_kg_per_day"] * share, 1)
    county = replace(county, villages=villages)
    town_pop = villages.groupby("township")["population"].sum()
    townships = county.townships.copy()
    townships["population"] = [int(town_pop.get(n, 0)) for n in townships["name"]]
    county = replace(county, townships=townships)
    geoms = county.roads.geometry.to_numpy()
    segments = int(shapely.get_num_coordinates(geoms).sum() - len(geoms))
    road_km = float(county.roads.to_crs(WORK_CRS).length.sum()) / 1000.0
    progress(f"writing {segments:,} road segments ({road_km:,.0f} km) "
             f"[{time.perf_counter() - start:.1f} s] …")
    paths = write_county(county, Path(out_dir))
    stations = max(2, round(n_villages / VILLAGES_PER_STATION))
    spec = CountySpec(run_id="natural", seed=seed, villages=n_villages, townships=n_townships,
                      area_km2=float(area_km2), remote=n_remote, elongation=1.0,
                      orientation_deg=0.0, stations=stations)
    config = county_config(spec, county, time_limit_s=float(time_limit_s))
    config["region"]["name"] = f"{county.name} County (synthetic, natural villages)"
    config["data"] = {key: FILE_NAMES[key] for key in
                      ("villages", "roads", "depots", "towns", "townships")}
    header = (
        f"# {config['region']['name']}: a SYNTHETIC county at natural-village resolution\n"
        f"# (rural-logistics generate --villages {n_villages} --seed {seed} --resolution "
        f"natural --vertex-spacing-m {vertex_spacing_m:g}): {n_villages:,} villages, "
        f"{segments:,} road segments.\n"
    )
    config_path = Path(out_dir) / CONFIG_NAME
    try:
        config_path.write_text(
            header + yaml.safe_dump(config, sort_keys=False, allow_unicode=True),
            encoding="utf-8",
        )
    except OSError as exc:
        raise OutputError(f"{config_path}: cannot write ({exc.strerror})") from None
    progress(f"done [{time.perf_counter() - start:.1f} s]")
    return NaturalCountyFiles(
        paths=paths, config=config_path, villages=len(county.villages),
        road_segments=segments, road_km=road_km, vertex_spacing_m=float(vertex_spacing_m),
    )
