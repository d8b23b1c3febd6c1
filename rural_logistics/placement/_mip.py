"""A thin layer over OR-Tools' linear solver (HiGHS / SCIP) used by the placement models.

The only placement module that imports OR-Tools.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import ortools.linear_solver.pywraplp as pywraplp
import scipy.sparse as sp
from ortools.linear_solver.python import model_builder_helper as mbh
from scipy.optimize import Bounds, LinearConstraint, milp

from rural_logistics.placement.result import SiteRules

Term = tuple[Any, float]


@contextlib.contextmanager
def _stdout_silenced() -> Iterator[None]:
    """Send file descriptor 1 to /dev/null (HiGHS prints a banner there when given
    parameters, which would end up in the command's results)."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):  # pragma: no cover - no real stdout (embedded use)
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


@dataclass
class MipOutcome:
    """What a solve produced.

    Attributes
    ----------
    infeasible
        The solver proved the model infeasible.
    optimal
        The solver proved its solution optimal.
    bound
        Best proven bound (``-inf``/``inf`` when unknown).
    objective
        Objective of the returned solution (``nan`` when there is none).
    sites
        Indices of the site variables at 1 (``None`` when there is no solution).
    values
        Values of the variables passed in ``solve(extra=...)``.
    """

    infeasible: bool
    optimal: bool
    bound: float
    objective: float
    sites: np.ndarray | None
    values: dict[str, np.ndarray] = field(default_factory=dict)


class Model:
    """Incremental MIP builder.

    Parameters
    ----------
    engine
        ``HIGHS`` or ``SCIP``.
    maximize
        Maximise instead of minimise.
    """

    def __init__(self, engine: str = "HIGHS", *, maximize: bool = False) -> None:
        solver = pywraplp.Solver.CreateSolver(engine)
        if solver is None:  # pragma: no cover - the OR-Tools wheels ship both
            raise RuntimeError(f"OR-Tools solver {engine} is not available")
        solver.SuppressOutput()
        self.solver = solver
        self.engine = engine
        self.objective = solver.Objective()
        self.maximize = maximize
        self._inf = solver.infinity()
        self._n = 0
        self._built_from = time.perf_counter()

    def add_var(self, lb: float, ub: float, obj: float = 0.0, *, integer: bool = False) -> Any:
        """A new variable with objective coefficient ``obj``."""
        self._n += 1
        var = self.solver.Var(lb, ub, integer, "")
        if obj:
            self.objective.SetCoefficient(var, obj)
        return var

    def add_site_vars(
        self,
        n_sites: int,
        *,
        allowed: np.ndarray,
        locked: np.ndarray,
        obj: np.ndarray | None = None,
    ) -> list[Any]:
        """One binary per site; excluded sites fixed at 0, locked ones at 1."""
        lower = np.zeros(n_sites)
        lower[np.asarray(locked, dtype=np.int64)] = 1.0
        upper = np.asarray(allowed, dtype=float)
        return [
            self.add_var(
                float(lower[j]),
                float(upper[j]),
                float(obj[j]) if obj is not None else 0.0,
                integer=True,
            )
            for j in range(n_sites)
        ]

    def add_row(self, terms: list[Term], *, lb: float = -np.inf, ub: float = np.inf) -> None:
        """``lb <= sum(coef × var) <= ub``."""
        row = self.solver.RowConstraint(
            lb if np.isfinite(lb) else -self._inf, ub if np.isfinite(ub) else self._inf, ""
        )
        for var, coef in terms:
            row.SetCoefficient(var, coef)

    def add_site_rules(
        self, y: list[Any], rules: SiteRules, *, exact_count: int | None = None
    ) -> None:
        """Count, budget and per-group rows on the site variables."""
        every = [(v, 1.0) for v in y]
        if exact_count is not None:
            self.add_row(every, lb=exact_count, ub=exact_count)
        if rules.max_stations is not None:
            self.add_row(every, ub=rules.max_stations)
        if rules.max_opening_cost is not None:
            cost = rules.opening_cost if rules.opening_cost is not None else np.zeros(len(y))
            self.add_row(
                [(v, float(cost[j])) for j, v in enumerate(y) if cost[j]],
                ub=rules.max_opening_cost,
            )
        if rules.groups is not None and rules.min_per_group > 0:
            labels = np.asarray(rules.groups)
            for g in np.unique(labels[labels >= 0]):
                members = np.flatnonzero(labels == g)
                self.add_row([(y[j], 1.0) for j in members], lb=rules.min_per_group)

    def set_offset(self, value: float) -> None:
        """Constant added to the objective."""
        self.objective.SetOffset(value)

    def hint_sites(self, y: list[Any], open_sites: np.ndarray) -> None:
        """Start from these open sites (SCIP only: hints crash HiGHS in OR-Tools 9.15)."""
        if self.engine != "SCIP":
            return
        values = np.zeros(len(y))
        values[np.asarray(open_sites, dtype=np.int64)] = 1.0
        self.solver.SetHint(y, values.tolist())

    def solve(
        self,
        *,
        time_limit_s: float,
        sites: list[Any],
        extra: dict[str, list[Any]] | None = None,
        threads: int = 1,
        rel_gap: float = 1e-9,
    ) -> MipOutcome:
        """Solve within the time limit and read the site variables.

        The solver's own limit is ``time_limit_s`` less the time the model took to
        build: OR-Tools copies the model to the solver inside ``Solve``, outside the
        solver's clock, and that copy takes about as long as the building (pmed36's
        second MIP: built in 0.2 s, 8.31 s taken for a 7.97 s limit without this).
        """
        now = time.perf_counter()
        own_limit_s = max(0.001, time_limit_s - (now - self._built_from))
        # A later solve of the same model reserves only what was built after this one.
        self._built_from = now
        if self.maximize:
            self.objective.SetMaximization()
        else:
            self.objective.SetMinimization()
        self.solver.SetTimeLimit(max(1, int(own_limit_s * 1000)))
        self.solver.SetNumThreads(threads)
        params = pywraplp.MPSolverParameters()
        params.SetDoubleParam(pywraplp.MPSolverParameters.RELATIVE_MIP_GAP, rel_gap)
        with _stdout_silenced():
            result = self.solver.Solve(params)
        if result == pywraplp.Solver.INFEASIBLE:
            nan_bound = -np.inf if not self.maximize else np.inf
            return MipOutcome(True, False, nan_bound, float("nan"), None)
        has_solution = result in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE)
        try:
            bound = float(self.objective.BestBound())
        except Exception:  # pragma: no cover - some back ends have no bound
            bound = float("nan")
        if not np.isfinite(bound) or bound != bound:
            bound = -np.inf if not self.maximize else np.inf
        if result == pywraplp.Solver.OPTIMAL and not np.isfinite(bound):
            # Models without integer variables report no MIP bound: the optimum is the bound.
            bound = float(self.objective.Value())
        if not has_solution:
            inf_bound = -np.inf if not self.maximize else np.inf
            return MipOutcome(
                False, False, bound if np.isfinite(bound) else inf_bound, float("nan"), None
            )
        chosen = np.flatnonzero(np.array([v.solution_value() for v in sites]) > 0.5)
        values = {
            name: np.array([v.solution_value() for v in vs]) for name, vs in (extra or {}).items()
        }
        return MipOutcome(
            infeasible=False,
            optimal=result == pywraplp.Solver.OPTIMAL,
            bound=bound,
            objective=float(self.objective.Value()),
            sites=chosen,
            values=values,
        )


@dataclass
class SparseOutcome:
    """What :func:`solve_sparse` produced.

    Attributes
    ----------
    infeasible
        The solver proved the model infeasible.
    optimal
        The solver proved its solution optimal.
    bound
        Best proven bound (``-inf`` when unknown; minimisation).
    values
        Variable values (``None`` when there is no solution).
    """

    infeasible: bool
    optimal: bool
    bound: float
    values: np.ndarray | None


def solve_sparse(
    *,
    objective: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    matrix: sp.csr_matrix,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    integer: np.ndarray,
    time_limit_s: float,
    rel_gap: float = 1e-9,
    solver: str = "highs",
) -> SparseOutcome:
    """Minimise ``objective @ x`` s.t. ``row_lower <= matrix @ x <= row_upper`` with HiGHS.

    The model is handed over as one sparse matrix, which takes a fraction of a second
    where adding 10^5 rows one by one takes seconds: to HiGHS through SciPy's ``milp``
    (OR-Tools' model builder converted a 10^5-row model for seconds outside HiGHS's
    clock, overrunning the limit by 7 s, and dropped the solution found at the limit),
    to SCIP through OR-Tools' model builder.

    Parameters
    ----------
    objective, lower, upper
        Per-variable cost and bounds.
    matrix, row_lower, row_upper
        Constraint rows.
    integer
        Indices of the integer variables.
    time_limit_s
        Wall-clock limit of the solve.
    rel_gap
        Relative MIP gap at which HiGHS stops.
    solver
        ``highs`` or ``scip``.
    """
    entry = time.perf_counter()
    if solver == "highs":
        return _solve_sparse_highs(
            objective=objective,
            lower=lower,
            upper=upper,
            matrix=matrix,
            row_lower=row_lower,
            row_upper=row_upper,
            integer=integer,
            time_limit_s=time_limit_s,
            rel_gap=rel_gap,
        )
    builder: Any = mbh.ModelBuilderHelper()  # its stubs mistype the numpy arguments
    builder.fill_model_from_sparse_data(
        np.asarray(lower, dtype=float),
        np.asarray(upper, dtype=float),
        np.asarray(objective, dtype=float),
        np.asarray(row_lower, dtype=float),
        np.asarray(row_upper, dtype=float),
        sp.csr_matrix(matrix, dtype=float),
    )
    for k in np.asarray(integer, dtype=np.int64):
        builder.set_var_integrality(int(k), True)
    engine = mbh.ModelSolverHelper(solver)
    # The clock runs from the call: building the model counts against the limit.
    engine.set_time_limit_in_seconds(max(0.05, float(time_limit_s) - (time.perf_counter() - entry)))
    with _stdout_silenced():
        engine.solve(builder)
    status = engine.status()
    if status == mbh.SolveStatus.INFEASIBLE:
        return SparseOutcome(True, False, -np.inf, None)
    has = status in (mbh.SolveStatus.OPTIMAL, mbh.SolveStatus.FEASIBLE)
    try:
        bound = float(engine.best_objective_bound())
    except Exception:  # pragma: no cover - no bound reported
        bound = -np.inf
    if not np.isfinite(bound):
        bound = -np.inf
    if not has:
        return SparseOutcome(False, False, bound, None)
    values = np.asarray(engine.variable_values(), dtype=float)
    return SparseOutcome(False, status == mbh.SolveStatus.OPTIMAL, bound, values)


def _solve_sparse_highs(
    *,
    objective: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    matrix: sp.csr_matrix,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    integer: np.ndarray,
    time_limit_s: float,
    rel_gap: float,
) -> SparseOutcome:
    """:func:`solve_sparse` with HiGHS (SciPy): keeps the plan found at the time limit."""
    entry = time.perf_counter()
    integrality = np.zeros(len(objective))
    integrality[np.asarray(integer, dtype=np.int64)] = 1
    bounds = Bounds(np.asarray(lower, dtype=float), np.asarray(upper, dtype=float))
    rows = LinearConstraint(
        sp.csr_matrix(matrix, dtype=float),
        np.asarray(row_lower, dtype=float),
        np.asarray(row_upper, dtype=float),
    )
    with _stdout_silenced():
        res = milp(
            np.asarray(objective, dtype=float),
            integrality=integrality,
            bounds=bounds,
            constraints=rows,
            options={
                "time_limit": max(0.05, float(time_limit_s) - (time.perf_counter() - entry)),
                "mip_rel_gap": rel_gap,
                "disp": False,
            },
        )
    if res.status == 2:  # infeasible
        return SparseOutcome(True, False, -np.inf, None)
    dual = getattr(res, "mip_dual_bound", None)
    bound = float(dual) if dual is not None else -np.inf
    if res.status == 0 and (res.x is not None) and not np.isfinite(bound):
        bound = float(res.fun)
    if not np.isfinite(bound):
        bound = -np.inf
    if res.x is None:
        return SparseOutcome(False, False, bound, None)
    return SparseOutcome(False, res.status == 0, bound, np.asarray(res.x, dtype=float))
