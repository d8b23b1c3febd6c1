"""How many stations for what coverage and cost: ``rural-logistics sweep``.

One prepared region and one matrix build serve every point: per number of stations (and
radius) the placement with its proof, optionally routed and assembled as ``solve`` does;
the maximal-coverage frontier beside it; the steps, the knee and, for a coverage target,
the smallest number of stations with the proof that one fewer cannot reach it.

Modules: :mod:`~rural_logistics.sweep.spec` (the swept values, parsed and checked),
:mod:`~rural_logistics.sweep.run` (the points), :mod:`~rural_logistics.sweep.target` (the
frontier and the target answer) and :mod:`~rural_logistics.sweep.files` (the folder:
CSV, JSON, the HTML report of :mod:`rural_logistics.report.sweep`).
"""

from rural_logistics.sweep.files import SWEEP_CSV, SWEEP_SUMMARY, write_sweep
from rural_logistics.sweep.run import SweepResult, run_sweep, sweep_config
from rural_logistics.sweep.spec import (
    K_METHODS,
    SweepSpec,
    parse_radii,
    parse_stations,
    parse_target,
)
from rural_logistics.sweep.target import CoverageFrontier, smallest_stations

__all__ = [
    "K_METHODS",
    "SWEEP_CSV",
    "SWEEP_SUMMARY",
    "CoverageFrontier",
    "SweepResult",
    "SweepSpec",
    "parse_radii",
    "parse_stations",
    "parse_target",
    "run_sweep",
    "smallest_stations",
    "sweep_config",
    "write_sweep",
]
