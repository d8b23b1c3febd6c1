"""The placement models' MIP vocabulary on top of the generic model
(:class:`rural_logistics.solvers.mip.Model`): one binary per candidate site, the side
constraints as rows, and the open sites read back (as spopt's ``FacilityModelBuilder``
adds facility variables and constraints to a PuLP model)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rural_logistics.placement.result import SiteRules
from rural_logistics.solvers.mip import MipResult, Model


@dataclass
class MipOutcome(MipResult):
    """A placement MIP's result (:class:`~rural_logistics.solvers.mip.MipResult`) with
    the open sites read back: ``sites`` holds the indices of the site variables at 1
    (``None`` when there is no solution); ``values`` the variables passed in
    ``solve_sites(extra=...)``."""

    sites: np.ndarray | None = None


class SiteModel(Model):
    """A MIP over candidate sites (see :class:`rural_logistics.solvers.mip.Model`)."""

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

    def hint_sites(self, y: list[Any], open_sites: np.ndarray) -> None:
        """Start from these open sites (SCIP only: hints crash HiGHS in OR-Tools 9.15)."""
        if self.engine != "SCIP":
            return
        values = np.zeros(len(y))
        values[np.asarray(open_sites, dtype=np.int64)] = 1.0
        self.solver.SetHint(y, values.tolist())

    def solve_sites(
        self,
        *,
        time_limit_s: float,
        sites: list[Any],
        extra: dict[str, list[Any]] | None = None,
        threads: int = 1,
        rel_gap: float = 1e-9,
    ) -> MipOutcome:
        """Solve within the time limit (building time counted) and read the open sites."""
        result = self.solve(
            time_limit_s=time_limit_s, read={"sites": sites, **(extra or {})},
            threads=threads, rel_gap=rel_gap,
        )
        if not result.has_solution:
            return MipOutcome(result.infeasible, False, result.bound, float("nan"))
        values = dict(result.values)
        chosen = np.flatnonzero(values.pop("sites") > 0.5)
        return MipOutcome(
            infeasible=False,
            optimal=result.optimal,
            bound=result.bound,
            objective=result.objective,
            values=values,
            has_solution=True,
            sites=chosen,
        )
