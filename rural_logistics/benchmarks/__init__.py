"""Benchmarks against published optima: ``rural-logistics benchmark NAME …``.

Each benchmark is a module in this package exposing

``add_arguments(parser: argparse.ArgumentParser) -> None``
    its own options (the common ones — ``--data``, ``--instances``, ``--time-limit``,
    ``--out`` — are added by the CLI), and

``run(args: argparse.Namespace, *, on_row: Callable[[dict], None]) -> BenchmarkTable``
    solve the instances, call ``on_row`` after each one (the CLI prints it), and return
    the table. Benchmarks never print.

Register a module by adding its name to :data:`BENCHMARKS`.
"""

from __future__ import annotations

#: Benchmark name → module path, in the order ``--help`` lists them.
BENCHMARKS: dict[str, str] = {
    "pmed": "rural_logistics.benchmarks.pmed",
    "cfl": "rural_logistics.benchmarks.cfl",
    "cvrp": "rural_logistics.benchmarks.cvrp",
    "vrptw": "rural_logistics.benchmarks.vrptw",
    "mdvrp": "rural_logistics.benchmarks.mdvrp",
    "hfvrp": "rural_logistics.benchmarks.hfvrp",
    "vrpspd": "rural_logistics.benchmarks.vrpspd",
    "lrp": "rural_logistics.benchmarks.lrp",
    "pvrp": "rural_logistics.benchmarks.pvrp",
    "solve-overhead": "rural_logistics.benchmarks.overhead",
    "osm": "rural_logistics.benchmarks.osm",
    "batch": "rural_logistics.benchmarks.batch",
    "matrix": "rural_logistics.benchmarks.matrix",
}
