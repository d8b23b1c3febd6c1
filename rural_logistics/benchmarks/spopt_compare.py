"""PySAL spopt's PMedian (PuLP + CBC) as the reference line of ``benchmark pmed --compare spopt``.

spopt is an optional dev dependency (``pip install -e '.[compare]'``); its model build
(PuLP) and CBC solve are timed together, as a user of spopt would experience them.
"""

from __future__ import annotations

import math

import numpy as np

from rural_logistics.errors import ConfigError


def solve_with_spopt(
    cost: np.ndarray, p: int, *, time_limit_s: float, weights: np.ndarray | None = None
) -> tuple[float, str]:
    """Solve the p-median with ``spopt.locate.PMedian`` and CBC.

    Parameters
    ----------
    cost
        ``(n_clients, n_sites)`` finite costs.
    p
        Sites to open.
    time_limit_s
        CBC time limit.
    weights
        Client weights (default 1).

    Returns
    -------
    objective, status
        Weighted cost of the returned sites (recomputed from them; ``nan`` if CBC found
        none) and ``optimal`` / ``feasible`` / CBC's status text.

    Raises
    ------
    ConfigError
        If spopt or PuLP is not installed.
    """
    try:
        import pulp
        from spopt.locate import PMedian
    except ImportError:
        raise ConfigError(
            "--compare spopt needs PySAL spopt (pip install spopt, or the 'compare' extra)"
        ) from None
    w = np.ones(cost.shape[0]) if weights is None else np.asarray(weights, dtype=float)
    model = PMedian.from_cost_matrix(cost, w, p_facilities=p)
    solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=max(1, math.ceil(time_limit_s)), threads=1)
    model.problem.solve(solver)
    open_sites = [
        j for j, var in enumerate(model.fac_vars) if var.value() is not None and var.value() > 0.5
    ]
    if len(open_sites) != p:
        return float("nan"), pulp.LpStatus.get(model.problem.status, "no solution")
    objective = float((w * cost[:, open_sites].min(axis=1)).sum())
    status = {1: "optimal", 2: "feasible"}.get(
        int(getattr(model.problem, "sol_status", 0)), pulp.LpStatus[model.problem.status]
    )
    return objective, status
