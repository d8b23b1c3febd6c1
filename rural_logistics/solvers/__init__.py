"""What every solver stage shares: the time budget (:mod:`~rural_logistics.solvers.budget`),
a MIP model over OR-Tools and SciPy's HiGHS (:mod:`~rural_logistics.solvers.mip`), the
one stdout silencer for native solver output (:mod:`~rural_logistics.solvers.silence`)
and worker processes that die with their parent (:mod:`~rural_logistics.solvers.processes`).

The ground floor of the package: it imports nothing from the rest of it.
"""

from rural_logistics.solvers.budget import Budget

__all__ = ["Budget"]
