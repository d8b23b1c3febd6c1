"""One MIP layer for every solver stage: an incremental model over OR-Tools' linear
solver (HiGHS or SCIP), and sparse-matrix MIPs through SciPy's HiGHS.

:class:`Model` is the generic builder (variables, rows, objective, one ``solve`` that
keeps its time limit); the placement models add their site vocabulary on top
(:class:`rural_logistics.placement.site_model.SiteModel`).
:func:`solve_sparse` takes a whole model as one sparse matrix. Solver output is kept off
the command's standard output (:func:`rural_logistics.solvers.silence.stdout_silenced`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import ortools.linear_solver.pywraplp as pywraplp
import scipy.sparse as sp
from ortools.linear_solver.python import model_builder_helper as mbh
from scipy.optimize import Bounds, LinearConstraint, milp

from rural_logistics.solvers.silence import stdout_silenced

#: A linear term: (variable, coefficient).
Term = tuple[Any, float]


@dataclass
class MipResult:
    """What a :meth:`Model.solve` produced.

    Attributes
    ----------
    infeasible
        The solver proved the model infeasible.
    optimal
        The solver proved its solution optimal.
    bound
        Best proven bound (``-inf`` when minimising and unknown, ``inf`` when maximising).
    objective
        Objective of the returned solution (``nan`` when there is none).
    values
        Values of the variables asked for (``read``), by name; empty when there is no
        solution.
    has_solution
        Whether a solution was found.
    """

    infeasible: bool
    optimal: bool
    bound: float
    objective: float
    values: dict[str, np.ndarray] = field(default_factory=dict)
    has_solution: bool = False

    @property
    def proven(self) -> bool:
        """Optimal or infeasible: the solver's answer is final."""
        return self.optimal or self.infeasible


class Model:
    """Incremental MIP builder.

    Parameters
    ----------
    engine
        ``HIGHS`` or ``SCIP``; when the OR-Tools build lacks it, ``fallback``.
    maximize
        Maximise instead of minimise.
    fallback
        Engine to use when ``engine`` is not available (``None``: an error).
    """

    def __init__(
        self, engine: str = "HIGHS", *, maximize: bool = False, fallback: str | None = None
    ) -> None:
        solver = pywraplp.Solver.CreateSolver(engine)
        if solver is None and fallback is not None:  # pragma: no cover - wheels ship both
            engine, solver = fallback, pywraplp.Solver.CreateSolver(fallback)
        if solver is None:  # pragma: no cover - the OR-Tools wheels ship both
            raise RuntimeError(f"OR-Tools solver {engine} is not available")
        solver.SuppressOutput()
        self.solver = solver
        self.engine = engine
        self.objective = solver.Objective()
        self.maximize = maximize
        self.inf = solver.infinity()
        self._built_from = time.perf_counter()

    def add_var(self, lb: float, ub: float, obj: float = 0.0, *, integer: bool = False) -> Any:
        """A new variable with objective coefficient ``obj``."""
        var = self.solver.Var(lb, ub, integer, "")
        if obj:
            self.objective.SetCoefficient(var, obj)
        return var

    def add_row(self, terms: list[Term], *, lb: float = -np.inf, ub: float = np.inf) -> Any:
        """``lb <= sum(coef × var) <= ub``; returns the row (more terms can be added with
        :meth:`add_term`)."""
        row = self.solver.RowConstraint(
            lb if np.isfinite(lb) else -self.inf, ub if np.isfinite(ub) else self.inf, ""
        )
        for var, coef in terms:
            row.SetCoefficient(var, coef)
        return row

    @staticmethod
    def add_term(row: Any, var: Any, coef: float) -> None:
        """Add ``coef × var`` to a row made by :meth:`add_row`."""
        row.SetCoefficient(var, coef)

    def set_cost(self, var: Any, coef: float) -> None:
        """Objective coefficient of a variable."""
        self.objective.SetCoefficient(var, coef)

    def set_offset(self, value: float) -> None:
        """Constant added to the objective."""
        self.objective.SetOffset(value)

    def solve(
        self,
        *,
        time_limit_s: float,
        read: dict[str, list[Any]] | None = None,
        threads: int | None = 1,
        rel_gap: float = 1e-9,
        min_ms: int = 1,
        count_building: bool = True,
        solver_params: str | None = None,
    ) -> MipResult:
        """Solve within the time limit and read the variables in ``read``.

        Parameters
        ----------
        time_limit_s
            Wall-clock limit.
        read
            Name → variables whose values to return.
        threads
            Solver threads (``None``: the solver's default).
        rel_gap
            Relative MIP gap at which the solver stops.
        min_ms
            Least time limit handed to the solver, milliseconds.
        count_building
            The solver's own limit is ``time_limit_s`` less the time the model took to
            build: OR-Tools copies the model to the solver inside ``Solve``, outside the
            solver's clock, and that copy takes about as long as the building (pmed36's
            second MIP: built in 0.2 s, 8.31 s taken for a 7.97 s limit without this).
        solver_params
            Solver-specific parameters (HiGHS option lines).
        """
        now = time.perf_counter()
        own_limit_s = time_limit_s - (now - self._built_from) if count_building else time_limit_s
        # A later solve of the same model reserves only what was built after this one.
        self._built_from = now
        if self.maximize:
            self.objective.SetMaximization()
        else:
            self.objective.SetMinimization()
        self.solver.SetTimeLimit(max(min_ms, round(1000 * max(0.0, own_limit_s))))
        if threads is not None:
            self.solver.SetNumThreads(threads)
        if solver_params is not None:
            self.solver.SetSolverSpecificParametersAsString(solver_params)
        params = pywraplp.MPSolverParameters()
        params.SetDoubleParam(pywraplp.MPSolverParameters.RELATIVE_MIP_GAP, rel_gap)
        with stdout_silenced():
            status = self.solver.Solve(params)
        unknown = math.inf if self.maximize else -math.inf
        if status == pywraplp.Solver.INFEASIBLE:
            return MipResult(True, False, unknown, float("nan"))
        try:
            bound = float(self.objective.BestBound())
        except Exception:  # pragma: no cover - some back ends have no bound
            bound = float("nan")
        if not np.isfinite(bound):
            bound = unknown
        if status == pywraplp.Solver.OPTIMAL and not np.isfinite(bound):
            # Models without integer variables report no MIP bound: the optimum is the bound.
            bound = float(self.objective.Value())
        if status not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
            return MipResult(False, False, bound, float("nan"))
        values = {
            name: np.array([v.solution_value() for v in vs]) for name, vs in (read or {}).items()
        }
        return MipResult(
            infeasible=False,
            optimal=status == pywraplp.Solver.OPTIMAL,
            bound=bound,
            objective=float(self.objective.Value()),
            values=values,
            has_solution=True,
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
    with stdout_silenced():
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
    with stdout_silenced():
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
