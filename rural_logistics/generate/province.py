"""A seeded synthetic province: many counties of varied size and shape, their configs and
a manifest for ``rural-logistics batch``.

:func:`plan_province` draws each county's figures from the province seed; :func:
`generate_province` builds the counties with :func:`~rural_logistics.generate.make_county`,
lays them out side by side (no two outlines overlap), and writes::

    OUT/manifest.csv          run_id,config — one row per county, for `batch`
    OUT/counties.csv          the figures of each county (size, shape, fleet, seeds)
    OUT/configs/RUN_ID.yaml   a region config per county (paths relative to it)
    OUT/data/RUN_ID/          villages.csv, roads.gpkg, depots.geojson, towns.geojson,
                              townships.gpkg (as `generate` writes for one county)

How the figures vary (all from the province seed, so the same seed gives the same files):

- villages: log-uniform between the two ends of ``villages``, stratified so that even a
  few counties span the range (a shuffled quantile each);
- area: 5–12 km² per village (the demo county has 8); townships: one per 14–22 villages
  (at least 2); remote villages: 0–3 % of them;
- shape: outline length/width 1–3.5 (a roundish basin to a long valley), in a random
  direction, on top of the generator's own irregular outline;
- stations: 12–20 % of the villages (at least 2); fleet: 4.2 m trucks (1,200 parcels)
  enough to carry the county's normal-day parcels alone, plus one, and as many vans
  (500 parcels) again — a plan pays only for the vehicles it uses, and a large station
  (more than a van holds) needs a truck;
- each county's own generator seed is drawn from the province seed.

Everything is made up; nothing in it is a real place.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pyproj import Transformer

from rural_logistics.errors import OutputError
from rural_logistics.generate.common import (
    CENTRE_LAT,
    OUTPUT_CRS,
    WORK_CRS,
    SyntheticCounty,
)
from rural_logistics.generate.county import make_county
from rural_logistics.generate.write import FILE_NAMES, write_county

#: Centre of the province (WGS 84): inside UTM zone 49N, where counties are built.
PROVINCE_CENTRE_LONLAT = (111.0, CENTRE_LAT)
#: Gap between two counties' bounding boxes, metres.
COUNTY_GAP_M = 5000.0
MANIFEST_FILE = "manifest.csv"
COUNTIES_FILE = "counties.csv"
MAX_COUNTIES = 500
PARCELS_PER_CAPITA_PER_YEAR = 25.0
TRUCK_CAPACITY = 1200
VAN_CAPACITY = 500


@dataclass(frozen=True)
class CountySpec:
    """The drawn figures of one county of a province.

    Attributes
    ----------
    run_id
        ``NN-name`` — the county's number in the province and its name, lower case; the
        run folder name in ``batch``.
    seed
        The county generator's seed.
    villages, townships, area_km2, remote, elongation, orientation_deg
        Arguments of :func:`~rural_logistics.generate.make_county`.
    stations
        ``placement.stations`` of its config.
    """

    run_id: str
    seed: int
    villages: int
    townships: int
    area_km2: float
    remote: int
    elongation: float
    orientation_deg: float
    stations: int


@dataclass(frozen=True)
class ProvinceFiles:
    """What :func:`generate_province` wrote.

    Attributes
    ----------
    manifest
        ``manifest.csv`` for ``rural-logistics batch``.
    counties_table
        ``counties.csv``: one row per county with its figures.
    configs
        The config of each county, in manifest order.
    counties
        The rows of ``counties.csv``.
    """

    manifest: Path
    counties_table: Path
    configs: tuple[Path, ...]
    counties: tuple[dict[str, Any], ...]


def parse_villages_range(text: str) -> tuple[int, int]:
    """``"N"`` or ``"MIN-MAX"`` → ``(min, max)`` villages per county.

    Raises
    ------
    ValueError
        If the text is not one of those forms with 1 <= MIN <= MAX.
    """
    parts = text.replace(" ", "").split("-")
    try:
        low, high = (int(parts[0]), int(parts[-1])) if 1 <= len(parts) <= 2 else (0, -1)
    except ValueError:
        low, high = 0, -1
    if low < 1 or high < low:
        raise ValueError(f"expected N or MIN-MAX with 1 <= MIN <= MAX, got {text!r}")
    return low, high


def plan_province(
    *, n_counties: int, seed: int = 2026, villages: tuple[int, int] = (40, 250)
) -> list[CountySpec]:
    """Draw the figures of ``n_counties`` counties (see the module docstring).

    Parameters
    ----------
    n_counties
        Number of counties, 1 to :data:`MAX_COUNTIES`.
    seed
        Province seed (integer >= 0).
    villages
        Smallest and largest number of villages of a county; at least 10 (a county
        needs 50 km² and 2 townships).

    Returns
    -------
    list of CountySpec
        Without run ids' names yet: ``run_id`` is ``NN`` here; :func:`generate_province`
        appends the generated county's name.

    Raises
    ------
    ValueError
        Listing every argument out of range.
    """
    problems = []
    if isinstance(n_counties, bool) or not isinstance(n_counties, int) or not (
        1 <= n_counties <= MAX_COUNTIES
    ):
        problems.append(f"counties must be an integer from 1 to {MAX_COUNTIES}, got {n_counties!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        problems.append(f"seed must be an integer >= 0, got {seed!r}")
    low, high = villages
    if low < 10 or high < low:
        problems.append(
            f"villages per county must be MIN-MAX with 10 <= MIN <= MAX, got {low}-{high}"
        )
    if problems:
        raise ValueError("; ".join(problems))
    rng = np.random.default_rng(seed)
    county_seeds = [
        int(child.generate_state(1)[0]) for child in np.random.SeedSequence(seed).spawn(n_counties)
    ]
    quantiles = (rng.permutation(n_counties) + rng.uniform(size=n_counties)) / n_counties
    width = len(str(n_counties))
    specs = []
    for i in range(n_counties):
        n_villages = round(math.exp(
            math.log(low) + quantiles[i] * (math.log(high) - math.log(low))
        ))
        n_villages = min(high, max(low, n_villages))
        area_km2 = round(max(50.0, n_villages * float(rng.uniform(5.0, 12.0))), 1)
        townships = max(2, min(int(area_km2 // 10), round(n_villages / rng.uniform(14.0, 22.0))))
        remote = round(n_villages * float(rng.uniform(0.0, 0.03)))
        remote = min(remote, n_villages - townships)
        elongation = round(float(rng.uniform(1.0, 3.5)), 2)
        orientation_deg = round(float(rng.uniform(0.0, 180.0)), 1)
        stations = max(2, round(n_villages * float(rng.uniform(0.12, 0.2))))
        specs.append(
            CountySpec(
                run_id=f"{i + 1:0{width}d}",
                seed=county_seeds[i],
                villages=n_villages,
                townships=townships,
                area_km2=area_km2,
                remote=remote,
                elongation=elongation,
                orientation_deg=orientation_deg,
                stations=stations,
            )
        )
    return specs


def _make(spec: CountySpec, centre_lonlat: tuple[float, float]) -> SyntheticCounty:
    return make_county(
        seed=spec.seed,
        n_villages=spec.villages,
        n_townships=spec.townships,
        area_km2=spec.area_km2,
        n_remote=spec.remote,
        elongation=spec.elongation,
        orientation_deg=spec.orientation_deg,
        centre_lonlat=centre_lonlat,
    )


def _layout_centres(sizes_m: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Offsets (metres) of boxes of ``sizes_m`` packed in rows around ``(0, 0)``.

    Shelf packing in the given order: boxes left to right, a new row when a row is about
    as wide as the province is tall, ``COUNTY_GAP_M`` between boxes.
    """
    gap = COUNTY_GAP_M
    total = sum((w + gap) * (h + gap) for w, h in sizes_m)
    row_width = max(max(w for w, _ in sizes_m) + gap, math.sqrt(total))
    placed: list[tuple[float, float]] = []
    x = y = row_height = 0.0
    for w, h in sizes_m:
        if x > 0 and x + w > row_width:
            x, y = 0.0, y + row_height + gap
            row_height = 0.0
        placed.append((x + w / 2, -(y + h / 2)))
        x += w + gap
        row_height = max(row_height, h)
    xs = [p[0] for p in placed]
    ys = [p[1] for p in placed]
    mid_x, mid_y = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    return [(px - mid_x, py - mid_y) for px, py in placed]


def county_config(
    spec: CountySpec, county: SyntheticCounty, *, time_limit_s: float
) -> dict[str, Any]:
    parcels = float(county.villages["population"].sum()) * PARCELS_PER_CAPITA_PER_YEAR / 365.0
    trucks = math.ceil(parcels / TRUCK_CAPACITY) + 1
    vans = math.ceil(parcels / VAN_CAPACITY)
    data = f"../data/{spec.run_id}"
    return {
        "region": {"name": f"{county.name} County (synthetic, {spec.run_id})", "crs": "auto"},
        "data": {
            "villages": f"{data}/{FILE_NAMES['villages']}",
            "roads": f"{data}/{FILE_NAMES['roads']}",
            "depots": f"{data}/{FILE_NAMES['depots']}",
            "towns": f"{data}/{FILE_NAMES['towns']}",
            "townships": f"{data}/{FILE_NAMES['townships']}",
        },
        "network": {
            "speed_kph_by_class": {"county": 50, "township": 35, "village": 25},
            "offroad_speed_kph": 5,
            "remote_warning_m": 1000,
            "disconnected": "error",
        },
        "demand": {
            "parcels_per_capita_per_year": PARCELS_PER_CAPITA_PER_YEAR,
            "scenarios": {"normal": 1.0, "double11": 5.1},
        },
        "scenario": "normal",
        "placement": {
            "method": "p_median",
            "stations": spec.stations,
            "radius_km": 3,
            "objective": "time",
            "weight": "population",
        },
        "fleet": {
            "vehicles": [
                {
                    "name": "light_truck",
                    "capacity_parcels": TRUCK_CAPACITY,
                    "count": trucks,
                    "speed_factor": 0.9,
                    "cost_per_km": 2.5,
                    "fixed_cost_per_day": 320,
                    "max_route_duration_min": 540,
                    "service_time_min": 15,
                },
                {
                    "name": "van",
                    "capacity_parcels": VAN_CAPACITY,
                    "count": vans,
                    "speed_factor": 1.0,
                    "cost_per_km": 1.4,
                    "fixed_cost_per_day": 180,
                    "max_route_duration_min": 480,
                    "service_time_min": 10,
                },
            ]
        },
        "solver": {"time_limit_s": time_limit_s, "seed": 0},
    }


def generate_province(
    out_dir: Path,
    *,
    n_counties: int,
    seed: int = 2026,
    villages: tuple[int, int] = (40, 250),
    time_limit_s: float = 10.0,
) -> ProvinceFiles:
    """Write a seeded synthetic province into ``out_dir`` (see the module docstring).

    Parameters
    ----------
    out_dir
        Folder to write into; created if missing. Files of the same names are replaced.
    n_counties, seed, villages
        As for :func:`plan_province`.
    time_limit_s
        ``solver.time_limit_s`` of every config (solver seconds of the whole run).

    Returns
    -------
    ProvinceFiles

    Raises
    ------
    ValueError
        If an argument is out of range.
    OutputError
        If ``out_dir`` cannot be written.
    """
    if not (isinstance(time_limit_s, int | float) and 0 < time_limit_s <= 86_400):
        raise ValueError(f"time_limit_s must be a number in (0, 86400], got {time_limit_s!r}")
    specs = plan_province(n_counties=n_counties, seed=seed, villages=villages)
    to_utm = Transformer.from_crs(OUTPUT_CRS, WORK_CRS, always_xy=True)
    to_lonlat = Transformer.from_crs(WORK_CRS, OUTPUT_CRS, always_xy=True)
    # A county's projected geometry does not depend on where it is centred (it is built
    # around its centre in UTM metres), so its size at the default centre places it.
    sizes = []
    for spec in specs:
        bounds = _make(spec, PROVINCE_CENTRE_LONLAT).townships.to_crs(WORK_CRS).total_bounds
        sizes.append((float(bounds[2] - bounds[0]), float(bounds[3] - bounds[1])))
    cx, cy = to_utm.transform(*PROVINCE_CENTRE_LONLAT)
    out_dir = Path(out_dir)
    try:
        (out_dir / "configs").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot create the folder ({exc.strerror})") from None
    rows: list[dict[str, Any]] = []
    configs: list[Path] = []
    for spec, (dx, dy) in zip(specs, _layout_centres(sizes), strict=True):
        lon, lat = to_lonlat.transform(cx + dx, cy + dy)
        centre = (round(float(lon), 4), round(float(lat), 4))
        county = _make(spec, centre)
        spec = CountySpec(**{**asdict(spec), "run_id": f"{spec.run_id}-{county.name.lower()}"})
        paths = write_county(county, out_dir / "data" / spec.run_id)
        config = county_config(spec, county, time_limit_s=float(time_limit_s))
        config_path = out_dir / "configs" / f"{spec.run_id}.yaml"
        header = (
            f"# {config['region']['name']}: a SYNTHETIC county of a generated province\n"
            f"# (rural-logistics generate --counties {n_counties} --seed {seed}); see "
            f"{COUNTIES_FILE}.\n"
        )
        config_path.write_text(
            header + yaml.safe_dump(config, sort_keys=False, allow_unicode=True),
            encoding="utf-8",
        )
        configs.append(config_path)
        population = int(county.villages["population"].sum())
        vehicles = config["fleet"]["vehicles"]
        road_km = float(county.roads.to_crs(WORK_CRS).length.sum()) / 1000.0
        rows.append({
            "run_id": spec.run_id,
            "county": county.name,
            "seed": spec.seed,
            "villages": spec.villages,
            "townships": spec.townships,
            "remote_villages": spec.remote,
            "area_km2": round(county.area_km2, 1),
            "elongation": spec.elongation,
            "orientation_deg": spec.orientation_deg,
            "centre_lon": centre[0],
            "centre_lat": centre[1],
            "population": population,
            "parcels_per_day": round(population * PARCELS_PER_CAPITA_PER_YEAR / 365.0, 1),
            "road_km": round(road_km, 1),
            "stations": spec.stations,
            "light_trucks": vehicles[0]["count"],
            "vans": vehicles[1]["count"],
            "data": str(paths["villages"].parent.relative_to(out_dir)),
            "config": str(config_path.relative_to(out_dir)),
        })
    manifest = out_dir / MANIFEST_FILE
    _write_csv(manifest, [{"run_id": r["run_id"], "config": r["config"]} for r in rows])
    table = out_dir / COUNTIES_FILE
    _write_csv(table, rows)
    return ProvinceFiles(
        manifest=manifest, counties_table=table, configs=tuple(configs), counties=tuple(rows)
    )


def _write_csv(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
