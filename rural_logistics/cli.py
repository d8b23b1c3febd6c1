"""Command line: ``rural-logistics solve | validate | generate | import-osm | batch | compare |
sweep | benchmark``.

A thin layer over the library: parse options, call the pipeline, print progress and
results, and turn domain errors into one line each with exit code 2. This is the only
module that prints or exits.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from rural_logistics import __version__
from rural_logistics.errors import RuralLogisticsError, one_line
from rural_logistics.text import plural

if TYPE_CHECKING:  # the CLI imports the library lazily, when a command runs
    from rural_logistics.config import RegionConfig

EXIT_OK = 0
EXIT_RUNS_FAILED = 1
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
#: ``generate``: a single county of this many villages or more is natural-village resolution.
NATURAL_FROM_VILLAGES = 1000
#: ``generate --resolution natural``: road shape points at most this far apart, metres.
NATURAL_VERTEX_SPACING_M = 25.0
#: ``generate --resolution natural``: ``solver.time_limit_s`` of the written config.
NATURAL_TIME_LIMIT_S = 360.0


class ConsoleProgress:
    """Prints one line per pipeline stage with its duration.

    On a terminal, a stage that runs longer than a second shows a live seconds counter.
    """

    def __init__(self, stream: TextIO, *, quiet: bool = False) -> None:
        self.stream = stream
        self.quiet = quiet
        self.live = hasattr(stream, "isatty") and stream.isatty()

    @contextlib.contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        if self.quiet:
            yield
            return
        start = time.perf_counter()
        stop = threading.Event()
        ticker = None
        if self.live:
            self.stream.write(f"  {stage} …")
            self.stream.flush()

            def tick() -> None:
                while not stop.wait(1.0):
                    elapsed = time.perf_counter() - start
                    self.stream.write(f"\r  {stage} … {elapsed:.0f} s")
                    self.stream.flush()

            ticker = threading.Thread(target=tick, daemon=True)
            ticker.start()
        try:
            yield
        finally:
            stop.set()
            if ticker is not None:
                ticker.join()
            elapsed = time.perf_counter() - start
            prefix = "\r" if self.live else ""
            self.stream.write(f"{prefix}  {stage} … {elapsed:.1f} s\n")
            self.stream.flush()


def _one_line_warnings(err: TextIO) -> Callable[..., None]:
    """A ``warnings.showwarning`` that prints a library's warning as one short line.

    Solver libraries warn in paragraphs (e.g. PyVRP when a penalty reaches its maximum on
    an instance the fleet cannot serve); the plan's own warnings already say what it means
    for the planner, so only the warning's first sentence is shown.
    """

    def show(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        text = " ".join(str(message).split())
        first = text.split(". ")[0].rstrip(".")
        err.write(f"warning: {category.__name__}: {one_line(first)}\n")

    return show


def _add_common_solve_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", type=Path, help="region config YAML file")
    parser.add_argument(
        "--scenario", help="demand scenario (a key of demand.scenarios), e.g. normal, double11"
    )
    parser.add_argument(
        "--stations", type=int, metavar="K", help="number of stations to open (placement.stations)"
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="rural-logistics",
        description="Plan rural e-commerce logistics: village stations, vehicle routes, maps.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    solve = sub.add_parser(
        "solve",
        help="plan stations and routes for a region config",
        description="Read a region config, choose stations, route vehicles and write "
        "plan.gpkg, summary.json, map.png, report.html, config.yaml, stops.csv and "
        "routes.csv into --out; with a carriers section, a folder per design, designs.csv, "
        "coalitions.csv, shapley.csv, carriers_summary.json and report.html.",
    )
    _add_common_solve_options(solve)
    solve.add_argument("--out", type=Path, required=True, help="output folder for the run")
    solve.add_argument(
        "--force", action="store_true", help="replace --out if it exists and is not empty"
    )
    solve.add_argument("--seed", type=int, help="random seed (solver.seed)")
    solve.add_argument(
        "--time-limit",
        type=float,
        metavar="S",
        help="solver time of the whole run in seconds, all stages together "
        "(solver.time_limit_s)",
    )
    solve.add_argument("--no-map", action="store_true", help="do not draw map.png")
    solve.add_argument("-q", "--quiet", action="store_true", help="no progress output")

    validate = sub.add_parser(
        "validate",
        help="check a region config and its data without solving",
        description="Validate the config, read every data file, build the road network "
        "and report all problems found.",
    )
    _add_common_solve_options(validate)

    generate = sub.add_parser(
        "generate",
        help="write a synthetic demo county, or a province of counties (seeded)",
        description="Generate a synthetic county (villages, roads, depot, towns, township "
        "boundaries) for demos and tests; with --counties N, N counties of varied size and "
        "shape with a config each and a manifest for `batch`. The same seed gives the same "
        "data.",
    )
    generate.add_argument("--out", type=Path, required=True, help="folder for the data files")
    generate.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    generate.add_argument(
        "--counties", type=int, metavar="N",
        help="write N counties, their configs and manifest.csv (villages, townships, area, "
        "remote villages and shape drawn per county)",
    )
    generate.add_argument(
        "--villages", metavar="N|MIN-MAX",
        help="number of villages (default 250); with --counties the range per county "
        "(default 40-250)",
    )
    generate.add_argument("--townships", type=int, help="number of townships (default 14)")
    generate.add_argument("--area-km2", type=float, help="county area, km² (default 2000)")
    generate.add_argument(
        "--remote", type=int, help="remote villages with no road within 2 km (default 6)"
    )
    generate.add_argument(
        "--time-limit", type=float, metavar="S",
        help="solver.time_limit_s of the written configs (default 10 with --counties, "
        f"{NATURAL_TIME_LIMIT_S:g} for a natural-village county)",
    )
    generate.add_argument(
        "--resolution", choices=("administrative", "natural"),
        help="one county: 'natural' adds village lanes, shape points every "
        "--vertex-spacing-m along every road (100,000+ segments for 3,000 villages) and a "
        "config county.yaml; default natural from 1,000 villages, else administrative",
    )
    generate.add_argument(
        "--vertex-spacing-m", type=float, metavar="M",
        help=f"with --resolution natural: road shape points at most M apart (default "
        f"{NATURAL_VERTEX_SPACING_M:g})",
    )
    generate.add_argument(
        "--force", action="store_true", help="write into --out even if it is not empty"
    )
    _add_import_osm_parser(sub)
    _add_batch_parser(sub)
    _add_compare_parser(sub)
    _add_sweep_parser(sub)
    _add_benchmark_parsers(sub)
    return parser


def _add_import_osm_parser(sub: argparse._SubParsersAction) -> None:
    imp = sub.add_parser(
        "import-osm",
        help="import an OpenStreetMap extract as a ready-to-run region",
        description="Read an OpenStreetMap extract (.osm.pbf, .osm, .osm.gz, .osm.bz2) and "
        "write a region folder: drivable roads with speeds and one-way flags, villages from "
        "place nodes (population tag or a stated default), townships from administrative "
        "boundaries, a depot, and region.yaml naming every assumption.",
    )
    imp.add_argument("file", type=Path, help="OpenStreetMap extract")
    imp.add_argument("--out", type=Path, required=True, help="folder for the region files")
    imp.add_argument("--bbox", metavar="W,S,E,N",
                     help="only villages inside and roads crossing this box (degrees)")
    imp.add_argument("--boundary", type=Path, metavar="FILE",
                     help="only villages inside and roads crossing this polygon layer")
    imp.add_argument("--speed", action="append", metavar="HIGHWAY=KPH",
                     help="speed of a highway value (repeatable); a new value adds it "
                     "(e.g. track=15), 0 drops it")
    imp.add_argument("--population", action="append", metavar="PLACE=N",
                     help="population assumed for a place type without a population tag "
                     "(repeatable, e.g. village=800)")
    imp.add_argument("--admin-level", type=int, default=8, metavar="N",
                     help="admin_level of the boundaries written as townships (default 8)")
    imp.add_argument("--depot", metavar="LON,LAT",
                     help="the county distribution centre (default: the most populous place)")
    imp.add_argument("--name", help="region name (default from the file name)")
    imp.add_argument("--config", type=Path, metavar="FILE",
                     help="write the config here (default DIR/region.yaml); its data paths "
                     "are relative to it")
    imp.add_argument("--force", action="store_true",
                     help="write into --out even if it is not empty")


def _add_batch_parser(sub: argparse._SubParsersAction) -> None:
    batch = sub.add_parser(
        "batch",
        help="plan many configs at once on a Dask cluster (local or existing)",
        description="Run `solve` for every config of a list, a glob or a manifest CSV on a "
        "Dask cluster: one run folder per config under OUT/runs/, one row per run in "
        "OUT/results.csv and OUT/results.parquet. A failed run is recorded with its error "
        "and the others go on; --resume finishes an interrupted batch. Exit code 1 if a "
        "run failed.",
    )
    batch.add_argument(
        "inputs", nargs="+", metavar="CONFIG|GLOB|MANIFEST",
        help="config files, folders or globs of them (quote globs, e.g. 'counties/*.yaml'), "
        "or one manifest .csv with per-run overrides",
    )
    batch.add_argument("--out", type=Path, required=True, help="the batch folder")
    batch.add_argument(
        "--workers", type=int,
        help="local Dask worker processes (default: cores / (threads x solve workers))",
    )
    batch.add_argument(
        "--threads-per-worker", type=int, default=1, metavar="T",
        help="runs at once per local worker (default 1)",
    )
    batch.add_argument(
        "--memory-limit", metavar="SIZE",
        help="memory per local worker: 2GiB, 1500MB, a fraction of this machine's memory "
        "(0.25) or auto (default: memory / workers); a worker above 95%% of it is restarted "
        "and its run recorded as failed",
    )
    batch.add_argument(
        "--scheduler", metavar="ADDRESS",
        help="use the Dask cluster of this scheduler (tcp://host:8786) instead of a local one",
    )
    batch.add_argument(
        "--solve-workers", type=int, choices=(1, 2), default=1,
        help="routing.workers of every run: solver processes per run (default 1, so that "
        "the batch's workers share the cores)",
    )
    batch.add_argument("--scenario", help="scenario of runs whose manifest cell is blank")
    batch.add_argument("--stations", type=int, metavar="K",
                       help="stations of runs whose manifest cell is blank")
    batch.add_argument("--seed", type=int, help="seed of runs whose manifest cell is blank")
    batch.add_argument("--time-limit", type=float, metavar="S",
                       help="solver.time_limit_s of runs whose manifest cell is blank")
    batch.add_argument("--resume", action="store_true",
                       help="reuse the finished runs of OUT whose config and data are unchanged")
    batch.add_argument("--force", action="store_true",
                       help="run every run again in a non-empty OUT")
    batch.add_argument("--no-map", action="store_true", help="runs do not draw map.png")
    batch.add_argument("-q", "--quiet", action="store_true", help="no progress output")


def _add_compare_parser(sub: argparse._SubParsersAction) -> None:
    compare = sub.add_parser(
        "compare",
        help="compare 2 or more runs of one region in one HTML report",
        description="Read run folders written by `solve` (or `batch`) and write one "
        "self-contained HTML report: coverage maps side by side (for up to 6 runs), key "
        "figures with deltas against the first run, equity, townships and run settings. It "
        "opens offline and prints on landscape pages.",
    )
    compare.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR",
                         help="run folders (2 or more; maps for up to 6); the first is "
                         "the baseline")
    compare.add_argument("--out", type=Path, required=True, help="the HTML file to write")
    compare.add_argument("--title", help="page title (default '<region> — scenario comparison')")
    compare.add_argument("--force", action="store_true", help="replace --out if it exists")


def _add_sweep_parser(sub: argparse._SubParsersAction) -> None:
    sweep = sub.add_parser(
        "sweep",
        help="how many stations for what coverage and cost: one plan per number of stations",
        description="Prepare the region once, then plan every number of stations of "
        "--stations (and every radius of --radius-km) with its proof of optimality or gap, "
        "beside the most coverage any plan of that size can reach. Writes sweep.csv, "
        "sweep_summary.json, report.html (curves, a slider over the plans' maps) and "
        "config.yaml into --out.",
    )
    sweep.add_argument("config", type=Path, help="region config YAML file")
    sweep.add_argument("--stations", required=True, metavar="FIRST:LAST:STEP",
                       help="numbers of stations, e.g. 10:120:5 (both ends included) or "
                       "10,20,40")
    sweep.add_argument("--radius-km", metavar="R[,R…]",
                       help="service radii for coverage, e.g. 3 or 2,3,5 or 2:5:1 (default "
                       "placement.radius_km); the maps show the first")
    sweep.add_argument("--method", choices=("p_median", "max_coverage"),
                       help="placement model of every point (default placement.method)")
    sweep.add_argument("--target", metavar="coverage=SHARE",
                       help="find the fewest stations with this share of people within the "
                       "radius, with proof that one fewer cannot (e.g. coverage=0.9)")
    sweep.add_argument("--route", action="store_true",
                       help="route the vehicles of every plan (cost per day and per parcel "
                       "over all costs); default placement only")
    sweep.add_argument("--scenario", help="demand scenario (a key of demand.scenarios)")
    sweep.add_argument("--time-limit", type=float, metavar="S",
                       help="solver time of each point, placement and routing together, "
                       "and of each frontier solve (solver.time_limit_s)")
    sweep.add_argument("--seed", type=int, help="random seed (solver.seed)")
    sweep.add_argument("--out", type=Path, required=True, help="output folder of the sweep")
    sweep.add_argument("--force", action="store_true",
                       help="replace --out if it exists and is not empty")
    sweep.add_argument("-q", "--quiet", action="store_true", help="no progress output")


def _add_benchmark_parsers(sub: argparse._SubParsersAction) -> None:
    from rural_logistics.benchmarks import BENCHMARKS
    from rural_logistics.benchmarks.common import DEFAULT_DATA_ROOT

    if not BENCHMARKS:
        return
    bench = sub.add_parser(
        "benchmark",
        help="measure the solvers on public benchmark instances",
        description="Solve public benchmark instances and compare with their published "
        "optimal or best-known values. Prints a table and a summary; --out writes CSV.",
    )
    kinds = bench.add_subparsers(dest="benchmark", metavar="NAME", required=True)
    for name, module_path in BENCHMARKS.items():
        module = importlib.import_module(module_path)
        doc = (module.__doc__ or name).strip().splitlines()[0]
        parser = kinds.add_parser(name, help=doc, description=doc)
        parser.add_argument(
            "--data",
            type=Path,
            default=DEFAULT_DATA_ROOT / name,
            help=f"instance folder (default {DEFAULT_DATA_ROOT / name})",
        )
        parser.add_argument(
            "--instances", metavar="A,B,…", help="comma-separated instance names (default all)"
        )
        parser.add_argument(
            "--time-limit", type=float, default=60.0, metavar="S", help="seconds per instance"
        )
        parser.add_argument("--out", type=Path, help="write the rows to this CSV file")
        module.add_arguments(parser)


def _load(args: argparse.Namespace) -> RegionConfig:
    from rural_logistics.validation import load_checked_config

    return load_checked_config(
        args.config,
        scenario=args.scenario,
        stations=args.stations,
        seed=getattr(args, "seed", None),
        time_limit_s=getattr(args, "time_limit", None),
    )


def _cmd_solve(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from rural_logistics.outputs import check_output_dir, write_run
    from rural_logistics.pipeline import plan_region, run_title

    config = _load(args)
    check_output_dir(args.out, force=args.force)
    progress = ConsoleProgress(err, quiet=args.quiet)
    if config.carriers is not None:
        return _solve_carriers(config, args, out, err, progress)
    if not args.quiet:
        err.write(f"Planning {run_title(config)}\n")
    plan = plan_region(config, progress=progress)
    with progress("writing outputs"):
        files = write_run(plan, args.out, config=config, force=args.force, map_png=not args.no_map)
    for warning in plan.warnings:
        err.write(f"warning: {one_line(warning)}\n")
    s = plan.summary
    per_parcel = s["cost_per_parcel"]
    cost_text = "n/a" if per_parcel is None else f"{per_parcel:.4f}"
    if not s.get("comparable", True):
        cost_text += " (not comparable: parcels undelivered)"
    out.write(
        f"delivered {s['delivered_share']:.1%} of parcels "
        f"({s['delivered_parcels_per_day']:.0f} of {s['parcels_per_day']:.0f} parcels/day)\n"
        f"{s['stations_open']} stations, {s['villages']} villages, "
        f"{s['population_within_radius_share']:.1%} of population within {s['radius_km']:g} km, "
        f"mean access {s['mean_access_km']:.2f} km (max {s['max_access_km']:.2f} km)\n"
        f"{s['vehicles_used']} vehicles, {s['total_route_km']:.1f} route km, "
        f"cost per parcel delivered (all costs) {cost_text}\n"
        f"placement {s['placement']['status']} (gap {s['placement']['gap']:.2%}), "
        f"routing {s['routing']['status']}, {s['solve_seconds']:.1f} s\n"
    )
    if "produce" in s:
        from rural_logistics.produce import produce_text

        out.write(produce_text(s["produce"]) + "\n")
    out.write(f"status {s['status']}: {s.get('status_detail', '')}\n")
    formulation = s["placement"].get("formulation", "full")
    if formulation != "full":
        out.write(f"placement: {formulation}\n")
    network = s.get("network") or {}
    if network.get("mode", "roads") != "roads":
        out.write(f"no road data: distances are {network.get('distance_basis')}\n")
    out.write("wrote " + ", ".join(str(f) for f in files) + "\n")
    return EXIT_OK


def _solve_carriers(
    config: RegionConfig, args: argparse.Namespace, out: TextIO, err: TextIO,
    progress: ConsoleProgress,
) -> int:
    """``solve`` of a config with a ``carriers`` section: every design and the fair split."""
    from rural_logistics.carriers.files import result_text, write_carriers
    from rural_logistics.carriers.run import plan_designs, planned_seconds

    assert config.carriers is not None
    if not args.quiet:
        names = ", ".join(c.name for c in config.carriers.members)
        err.write(f"Planning {config.region.name} ({config.scenario}) for carriers {names}: "
                  f"designs {', '.join(config.carriers.designs)}, "
                  f"{config.solver.time_limit_s:g} s each; up to "
                  f"{planned_seconds(config):.0f} s of solving in all"
                  f"{' with the fair split' if config.carriers.shapley else ''}\n")
    result = plan_designs(config, progress=progress)
    with progress("writing outputs"):
        files = write_carriers(result, args.out, force=args.force, map_png=not args.no_map)
    warned: dict[str, list[str]] = {}  # each warning once, with the designs it concerns
    for design in result.designs:
        for warning in dict.fromkeys(design.plan.warnings):
            warned.setdefault(warning, []).append(design.name)
    for warning, designs in warned.items():
        where = "" if len(designs) == len(result.designs) else f"{', '.join(designs)}: "
        err.write(f"warning: {where}{one_line(warning)}\n")
    out.write(result_text(result))
    for note in result.notes:
        out.write(f"note: {one_line(note)}\n")
    out.write(f"{result.solve_seconds:.1f} s; wrote {len(files)} files into {args.out} "
              f"(designs.csv, shapley.csv, report.html, one folder per design)\n")
    return EXIT_OK


def _cmd_validate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from rural_logistics.errors import InputDataError
    from rural_logistics.validation import validate_inputs

    with ConsoleProgress(err)("checking the config, every data file and the road network"):
        report = validate_inputs(args.config, scenario=args.scenario, stations=args.stations)
    for warning in report.warnings:
        err.write(f"warning: {one_line(warning)}\n")
    if not report.ok or report.prepared is None:
        raise InputDataError(report.problems or (f"{args.config}: cannot be checked",))
    data = report.prepared.data
    road_km = float(report.prepared.network.length_m.sum()) / 1000
    config = report.config
    mode = config.network.mode if config is not None else "roads"
    network_text = f"{road_km:.0f} road km" if mode == "roads" else (
        f"no road data ({mode.replace('_', ' ')} network)")
    out.write(
        f"{args.config}: OK — {len(data.villages)} villages, "
        f"{int(data.villages['population'].sum())} people, {network_text}, "
        f"{int(report.prepared.site_ok.sum())} candidate sites, CRS {data.crs}, "
        f"{len(report.warnings)} warning(s)\n"
    )
    return EXIT_OK


def _cmd_generate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from rural_logistics.errors import ConfigError, OutputError
    from rural_logistics.generate import generate_county, generate_province, parse_villages_range

    target: Path = args.out
    if target.exists() and not target.is_dir():
        raise OutputError(f"{target}: exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not args.force:
        raise OutputError(f"{target}: folder exists and is not empty (use --force)")
    try:
        low, high = parse_villages_range(
            args.villages or ("40-250" if args.counties is not None else "250"))
    except ValueError as exc:
        raise ConfigError(f"--villages: {exc}") from None
    if args.counties is None:
        if low != high:
            raise ConfigError("--villages: a range MIN-MAX needs --counties")
        natural = (args.resolution or ("natural" if low >= NATURAL_FROM_VILLAGES
                                       else "administrative")) == "natural"
        if not natural and args.time_limit is not None:
            raise ConfigError("--time-limit: only with --counties or --resolution natural "
                              "(it goes into their configs)")
        if not natural and args.vertex_spacing_m is not None:
            raise ConfigError("--vertex-spacing-m: only with --resolution natural")
        county_args = {
            "seed": args.seed,
            "n_villages": low,
            "n_townships": 14 if args.townships is None else args.townships,
            "area_km2": 2000.0 if args.area_km2 is None else args.area_km2,
            "n_remote": 6 if args.remote is None else args.remote,
        }
        if not natural:
            paths = generate_county(target, **county_args)
            out.write("wrote " + ", ".join(str(p) for p in paths.values()) + "\n")
            return EXIT_OK
        from rural_logistics.generate.natural import generate_natural_county

        def say(text: str) -> None:
            err.write(text + "\n")

        try:
            natural_files = generate_natural_county(
                target, **county_args,
                vertex_spacing_m=NATURAL_VERTEX_SPACING_M if args.vertex_spacing_m is None
                else args.vertex_spacing_m,
                time_limit_s=NATURAL_TIME_LIMIT_S if args.time_limit is None
                else args.time_limit,
                progress=say,
            )
        except ValueError as exc:
            raise ConfigError(f"generate: {exc}") from None
        out.write(
            f"wrote a natural-village county: {natural_files.villages:,} villages, "
            f"{natural_files.road_segments:,} road segments ({natural_files.road_km:,.0f} km, "
            f"shape points every {natural_files.vertex_spacing_m:g} m or less), config "
            f"{natural_files.config}; data "
            + ", ".join(str(p) for p in natural_files.paths.values()) + "\n"
            f"plan it: rural-logistics solve {natural_files.config} --out RUN_FOLDER\n"
        )
        return EXIT_OK
    fixed = [o for o, v in (("--townships", args.townships), ("--area-km2", args.area_km2),
                            ("--remote", args.remote)) if v is not None]
    if fixed:
        raise ConfigError(f"{', '.join(fixed)}: not with --counties (drawn for each county)")
    try:
        files = generate_province(
            target, n_counties=args.counties, seed=args.seed, villages=(low, high),
            time_limit_s=10.0 if args.time_limit is None else args.time_limit,
        )
    except ValueError as exc:
        raise ConfigError(f"generate: {exc}") from None
    sizes = [int(c["villages"]) for c in files.counties]
    out.write(
        f"wrote {len(sizes)} counties ({sum(sizes):,} villages, {min(sizes)}–{max(sizes)} "
        f"per county) into {target}: {files.manifest}, {files.counties_table}, "
        f"{len(files.configs)} configs in {target / 'configs'}, data in {target / 'data'}\n"
        f"run them: rural-logistics batch {files.manifest} --out RUNS_FOLDER\n"
    )
    return EXIT_OK


def _cmd_import_osm(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from rural_logistics.errors import InputDataError
    from rural_logistics.osm.importer import import_osm, parse_assignments, parse_bbox

    depot = None
    if args.depot:
        parts = args.depot.split(",")
        try:
            lon, lat = (float(p) for p in parts)
        except ValueError:
            raise InputDataError(f"--depot {args.depot!r}: expected LON,LAT in degrees") from None
        depot = (lon, lat)
    result = import_osm(
        args.file,
        args.out,
        bbox=parse_bbox(args.bbox) if args.bbox else None,
        boundary=args.boundary,
        speeds=parse_assignments(args.speed, "--speed"),
        populations=parse_assignments(args.population, "--population"),
        admin_level=args.admin_level,
        depot=depot,
        name=args.name,
        force=args.force,
        config=args.config,
        progress=lambda line: err.write(f"  {line}\n"),
    )
    total_km = sum(result.road_km_by_class.values())
    out.write(
        f"roads: {result.roads} lines, {total_km:,.1f} km ({result.oneway_roads} one-way, "
        f"{result.maxspeed_roads} with a speed from maxspeed)\n"
    )
    for road_class, km in result.road_km_by_class.items():
        out.write(f"  {road_class:<16} {km:>9,.1f} km\n")
    left_out = sum(result.excluded.values())
    out.write(f"ways left out: {left_out} ("
              + ", ".join(f"{k} {v}" for k, v in sorted(result.excluded.items(),
                                                         key=lambda kv: -kv[1])) + ")\n")
    out.write(
        f"villages: {result.villages} ({result.population_given} with a population tag, "
        f"{result.population_assumed} assumed)\n"
        f"townships: {result.townships}\n"
        f"depot: {result.depot}\n"
    )
    out.write("time: " + ", ".join(f"{k} {v:.2f} s" for k, v in result.seconds.items()) + "\n")
    out.write("wrote " + ", ".join(str(p) for p in result.files.values()) + "\n")
    return EXIT_OK


class BatchConsole:
    """Progress of ``batch`` on stderr: a line per finished run; on a terminal also a
    live bar (done, failed, running, elapsed, time left) redrawn every second."""

    def __init__(self, stream: TextIO, *, quiet: bool = False, width: int = 12) -> None:
        self.stream = stream
        self.quiet = quiet
        self.width = width
        self.live = not quiet and hasattr(stream, "isatty") and stream.isatty()
        self.last: Any = None
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.ticker: threading.Thread | None = None

    def bar(self) -> str:
        p = self.last
        if p is None or not p.total:
            return ""
        filled = int(20 * p.done / p.total)
        elapsed = p.elapsed_s if p.done == p.total else max(p.elapsed_s, self.elapsed())
        left = (f" · ~{_clock(elapsed / p.done * (p.total - p.done))} left"
                if 0 < p.done < p.total else "")
        return (f"  [{'#' * filled}{'.' * (20 - filled)}] {p.done}/{p.total} · {p.failed} failed"
                f" · {p.running} running · {_clock(elapsed)}{left}")

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def __call__(self, progress: Any) -> None:
        if self.quiet:
            return
        with self.lock:
            if progress.record is None:
                self.started = time.perf_counter() - progress.elapsed_s
                self.last = progress
                if self.live and self.ticker is None and progress.total:
                    self.ticker = threading.Thread(target=self._tick, daemon=True)
                    self.ticker.start()
                return
            self.last = progress
            r = progress.record
            n = len(str(progress.total))
            head = (f"  [{progress.done:>{n}}/{progress.total}] {r['run_id']:<{self.width}} "
                    f"{r['run_status']:<6} {_seconds(r.get('run_s'))}")
            s = r.get("summary") or {}
            if r["run_status"] == "ok":
                cost = s.get("cost_per_parcel")
                tail = (f"{s.get('status')}, {s.get('stations_open')} stations, "
                        f"{s.get('delivered_parcels_per_day', 0):.0f} of "
                        f"{s.get('parcels_per_day', 0):.0f} parcels/day, cost per parcel "
                        f"{'n/a' if cost is None else cost}")
            else:
                tail = f"error: {r.get('error')}"
            prefix = "\r\033[K" if self.live else ""
            self.stream.write(f"{prefix}{head}  {tail}\n")
            if self.live:
                self.stream.write(self.bar())
            self.stream.flush()

    def _tick(self) -> None:
        while not self.stop.wait(1.0):
            with self.lock:
                self.stream.write("\r\033[K" + self.bar())
                self.stream.flush()

    def close(self) -> None:
        self.stop.set()
        if self.ticker is not None:
            self.ticker.join()
            self.stream.write("\r\033[K")
            self.stream.flush()


def _clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


def _seconds(value: Any) -> str:
    return f"{value:6.1f} s" if isinstance(value, int | float) else "     - s"


def _cmd_batch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import logging

    from rural_logistics.batch import (
        RUN_FAILED,
        RUN_NOT_RUN,
        RUN_OK,
        batch_cluster,
        collect_runs,
        prepare_batch,
        run_batch,
    )

    runs = collect_runs(args.inputs, scenario=args.scenario, stations=args.stations,
                        seed=args.seed, time_limit_s=args.time_limit)
    plan = prepare_batch(runs, out_dir=args.out, resume=args.resume, force=args.force,
                         solve_workers=args.solve_workers, map_png=not args.no_map)
    console = BatchConsole(err, quiet=args.quiet,
                           width=min(24, max(len(r.run_id) for r in runs)))
    if not args.quiet:
        reused = f", {len(plan.reused)} reused (finished, config and data unchanged)" \
            if plan.reused else ""
        err.write(f"Batch of {plural(len(runs), 'run')} into {plan.out_dir}: "
                  f"{len(plan.tasks)} to run{reused}\n")
    distributed_log = logging.getLogger("distributed")
    level = distributed_log.level
    distributed_log.setLevel(logging.CRITICAL)  # a dead worker is reported as its run's error
    try:
        if plan.tasks:
            with batch_cluster(scheduler=args.scheduler, workers=args.workers,
                               threads_per_worker=args.threads_per_worker,
                               memory_limit=args.memory_limit,
                               solve_workers=args.solve_workers,
                               runs=len(plan.tasks)) as (client, info):
                if not args.quiet:
                    err.write(f"  {info.describe()}\n  routing.workers = {args.solve_workers} "
                              "per run (--solve-workers)")
                    busy = info.total_threads * args.solve_workers
                    cores = os.cpu_count() or 1
                    if info.kind == "local" and busy > cores:
                        err.write(f"\nwarning: {busy} busy processes on {cores} cores: runs "
                                  "slow each other down and time-limited stages find worse "
                                  "plans")
                    elif args.solve_workers > 1:
                        err.write("; their solver processes are not counted against the "
                                  "worker's memory limit")
                    err.write("\n")
                result = run_batch(plan, client, cluster=info, inputs=args.inputs,
                                   on_progress=console)
        else:
            result = run_batch(plan, None, inputs=args.inputs, on_progress=console)
    except KeyboardInterrupt:
        console.close()
        err.write(f"\ninterrupted: finished runs are kept in {plan.out_dir}; "
                  "run the same command with --resume to finish the batch\n")
        return EXIT_INTERRUPTED
    finally:
        console.close()
        distributed_log.setLevel(level)
    ok, failed = result.count(RUN_OK), result.count(RUN_FAILED)
    out.write(
        f"{plural(len(result.records), 'run')}: {ok} ok, {failed} failed"
        + (f", {result.count(RUN_NOT_RUN)} not run" if result.count(RUN_NOT_RUN) else "")
        + (f" ({result.reused} reused)" if result.reused else "")
        + f" in {_clock(result.elapsed_s)}\n"
        f"wrote {result.results_csv}, {result.results_parquet}, {result.settings}\n"
    )
    return EXIT_RUNS_FAILED if failed else EXIT_OK


def _cmd_benchmark(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from rural_logistics.benchmarks import BENCHMARKS
    from rural_logistics.benchmarks.common import format_table, format_value, write_csv

    module = importlib.import_module(BENCHMARKS[args.benchmark])

    def on_row(row: dict[str, object]) -> None:
        err.write("  " + ", ".join(f"{k}={format_value(v)}" for k, v in row.items()) + "\n")
        err.flush()

    table = module.run(args, on_row=on_row)
    out.write(format_table(table) + "\n")
    for line in table.summary:
        out.write(line + "\n")
    if args.out is not None:
        write_csv(table, args.out)
        out.write(f"wrote {args.out}\n")
    return EXIT_OK


def _cmd_compare(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from rural_logistics.report import compare_runs

    path = compare_runs(args.runs, out=args.out, force=args.force, title=args.title)
    out.write(f"wrote {path}\n")
    return EXIT_OK


def _point_text(row: Any, index: int, total: int) -> str:
    """One progress line of a sweep point."""
    gap = "" if row["placement_status"] == "optimal" else f" gap {row['placement_gap']:.2%}"
    routed = (
        f", {row['vehicles_used']} vehicles, {row['total_route_km']:.0f} km, "
        f"{row['cost_per_day']:,.0f}/day ({row['status']})"
        if row["cost_per_day"] is not None else ""
    )
    return (
        f"  [{index}/{total}] {row['stations']} stations, {row['radius_km']:g} km: "
        f"{row['placement_status']}{gap}, "
        f"{row['population_within_radius_share']:.1%} within the radius (best possible "
        f"{row['best_within_radius_share']:.1%}), mean access {row['mean_access_km']:.2f} km, "
        f"placement {row['placement_seconds']:.2f} s{routed}\n"
    )


def _cmd_sweep(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from rural_logistics.outputs import check_output_dir
    from rural_logistics.sweep import (
        SweepSpec,
        parse_radii,
        parse_stations,
        parse_target,
        run_sweep,
        write_sweep,
    )
    from rural_logistics.validation import load_checked_config

    spec = SweepSpec(
        stations=parse_stations(args.stations),
        radii_km=parse_radii(args.radius_km) if args.radius_km else (),
        method=args.method,
        route=args.route,
        target_coverage=parse_target(args.target) if args.target else None,
    )
    config = load_checked_config(args.config, scenario=args.scenario, seed=args.seed,
                                 time_limit_s=args.time_limit)
    check_output_dir(args.out, force=args.force)
    progress = ConsoleProgress(err, quiet=args.quiet)
    if not args.quiet:
        err.write(
            f"Sweeping {config.region.name} ({config.scenario}): {len(spec.stations)} numbers "
            f"of stations {spec.stations[0]}–{spec.stations[-1]}"
            + (", routed" if spec.route else ", placement only") + "\n"
        )

    def on_point(row: Any, index: int, total: int) -> None:
        if not args.quiet:
            err.write(_point_text(row, index, total))
            err.flush()

    result = run_sweep(config, spec, progress=progress, on_point=on_point)
    with progress("writing the sweep"):
        files = write_sweep(result, args.out, force=args.force)
    for warning in result.summary["warnings"]:
        err.write(f"warning: {one_line(warning)}\n")
    s = result.summary
    out.write(
        f"{len(s['rows'])} points in {s['total_seconds']:.1f} s (placement "
        f"{s['placement_seconds']:.1f} s, frontier {s['frontier_seconds']:.1f} s, routing "
        f"{s['routing_seconds']:.1f} s); "
        f"{sum(r['placement_status'] == 'optimal' for r in s['rows'])} proven optimal\n"
    )
    for row in s["rows"]:
        if row["placement_status"] != "optimal":
            out.write(f"  {row['stations']} stations: {row['status_detail']}\n")
    for curve in s["curves"]:
        if curve["knee_stations"] is not None:
            out.write(f"knee at {curve['knee_stations']} stations ({curve['radius_km']:g} km)\n")
    for target in s["targets"]:
        out.write(f"target: {target['statement']}\n")
    out.write("wrote " + ", ".join(str(f) for f in files) + "\n")
    return EXIT_OK


_COMMANDS = {
    "solve": _cmd_solve,
    "validate": _cmd_validate,
    "generate": _cmd_generate,
    "batch": _cmd_batch,
    "benchmark": _cmd_benchmark,
    "compare": _cmd_compare,
    "import-osm": _cmd_import_osm,
    "sweep": _cmd_sweep,
}


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the CLI and return the exit code.

    Parameters
    ----------
    argv
        Arguments without the program name (default ``sys.argv[1:]``).
    stdout, stderr
        Streams for results and for progress/errors (default the process streams).
    """
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    try:  # Ctrl-C at any point, even while the parser imports the benchmarks: one line
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # argparse already printed usage and the error
            return int(exc.code) if isinstance(exc.code, int) else EXIT_USER_ERROR
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warnings(err)
            return _COMMANDS[args.command](args, out, err)
    except RuralLogisticsError as exc:
        for problem in exc.problems:
            err.write(f"error: {one_line(problem)}\n")
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        err.write("\ninterrupted; nothing was written\n")
        return EXIT_INTERRUPTED
