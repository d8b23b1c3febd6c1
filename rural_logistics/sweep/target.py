"""The coverage frontier and the smallest number of stations that reaches a target.

The frontier at ``K`` stations is the maximal-coverage optimum: the most people any plan
of ``K`` stations (under the same side constraints) can have within the radius of an open
station, with the solver's proven upper bound. It never falls as ``K`` grows: a plan of
``K`` stations plus one more closed allowed site is a plan of ``K + 1`` that covers at
least as many. So if the bound at ``K - 1`` is below the target, no plan of ``K - 1`` or
fewer stations reaches it, and a plan of ``K`` that reaches it makes ``K`` the smallest,
proven.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rural_logistics.errors import InfeasibleError
from rural_logistics.placement.models import solve_max_coverage
from rural_logistics.placement.result import PlacementResult, SiteRules
from rural_logistics.summary import SweepTarget

#: Relative tolerance when a covered population is compared with a target.
SHARE_TOL = 1e-9


@dataclass
class CoverageFrontier:
    """Maximal-coverage optima of one region, solved on demand and remembered.

    Attributes
    ----------
    cost
        ``(n_villages, n_sites)`` assignment cost (``inf`` where a site may not serve).
    distance_km
        ``(n_villages, n_sites)`` access road distance.
    population
        ``(n_villages,)`` people (the frontier counts people, whatever
        ``placement.weight`` is).
    rules
        The placement side constraints.
    time_limit_s
        Time limit of each solve.
    solved
        ``(stations, radius_km)`` → the solve.
    """

    cost: np.ndarray
    distance_km: np.ndarray
    population: np.ndarray
    rules: SiteRules
    time_limit_s: float
    solved: dict[tuple[int, float], PlacementResult] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total(self) -> float:
        """All people."""
        return float(self.population.sum())

    def covers(self, radius_km: float) -> np.ndarray:
        """Village × site: the site is allowed and within ``radius_km``."""
        return np.isfinite(self.cost) & (self.distance_km <= radius_km)

    def usable_sites(self) -> int:
        """Candidate sites that may open."""
        return self.cost.shape[1] - len(np.unique(self.rules.excluded))

    def fewest(self) -> int:
        """Fewest stations a plan may have (the locked ones, at least one)."""
        return max(1, len(np.unique(self.rules.locked)))

    def most(self) -> int:
        """Most stations a plan may have (usable sites, ``max_stations``)."""
        cap = self.rules.max_stations
        return min(self.usable_sites(), cap) if cap is not None else self.usable_sites()

    def solve(self, stations: int, radius_km: float) -> PlacementResult:
        """The maximal-coverage optimum (and bound) with ``stations`` stations."""
        key = (int(stations), float(radius_km))
        if key not in self.solved:
            try:
                result = solve_max_coverage(
                    self.cost, self.covers(radius_km), self.population, k=int(stations),
                    rules=self.rules, time_limit_s=self.time_limit_s,
                )
            except InfeasibleError:  # no plan of this size meets the side constraints
                result = PlacementResult(
                    open_sites=np.zeros(0, dtype=np.int64),
                    assignment=np.full(self.cost.shape[0], -1, dtype=np.int64),
                    objective=0.0, bound=0.0, status="optimal", solve_seconds=0.0,
                    model="max_coverage", sense="max",
                )
            self.seconds += result.solve_seconds
            self.solved[key] = result
        return self.solved[key]

    def remember(self, stations: int, radius_km: float, result: PlacementResult) -> None:
        """Keep a maximal-coverage solve made elsewhere (the sweep's own plan)."""
        self.solved[(int(stations), float(radius_km))] = result

    def share(self, value: float) -> float:
        """A covered population as a share of all people."""
        return value / self.total if self.total > 0 else 0.0


def _pct(share: float) -> str:
    return f"{100 * share:.2f} %"


def smallest_stations(
    frontier: CoverageFrontier, *, radius_km: float, coverage: float, site_ids: list[str]
) -> SweepTarget:
    """The fewest stations with which ``coverage`` of the people are within ``radius_km``
    of a station, and the proof that one fewer cannot.

    Parameters
    ----------
    frontier
        The region's coverage frontier (its remembered solves narrow the search).
    radius_km
        Service radius.
    coverage
        Target share of people (0–1).
    site_ids
        Candidate site ids, for the answer's station list.

    Returns
    -------
    SweepTarget
        ``reached`` and ``stations`` with the plan's site ids; ``proven`` when the
        frontier's bound at ``stations - 1`` (or the whole candidate set) is below the
        target; ``statement`` says it in one sentence.
    """
    need = coverage * frontier.total
    tol = SHARE_TOL * max(1.0, frontier.total)
    lo, hi = frontier.fewest(), frontier.most()
    answer: SweepTarget = {
        "radius_km": radius_km, "coverage": coverage, "reached": False, "proven": False,
        "stations": None, "best_share": None, "below_stations": None,
        "below_bound_share": None, "station_ids": [], "statement": "",
    }
    if lo > hi:
        answer["statement"] = "no plan meets the placement side constraints"
        return answer
    top = frontier.solve(hi, radius_km)
    if top.objective < need - tol:
        if top.bound < need - tol:
            answer["proven"] = True
            answer["below_stations"] = hi
            answer["below_bound_share"] = frontier.share(top.bound)
            answer["statement"] = (
                f"no number of stations within the {frontier.usable_sites()} usable candidate "
                f"sites reaches {_pct(coverage)} of people within {radius_km:g} km: with "
                f"{hi} stations (the most allowed) at most {_pct(frontier.share(top.bound))} "
                "are (proven)"
            )
        else:
            answer["statement"] = (
                f"not decided: with {hi} stations the best plan found covers "
                f"{_pct(frontier.share(top.objective))}, bound "
                f"{_pct(frontier.share(top.bound))} (time limit; raise --time-limit)"
            )
        return answer
    # Known solves narrow the bracket: lo - 1 is proven short, hi reaches the target.
    for (k, r), result in sorted(frontier.solved.items()):
        if r != float(radius_km) or not lo <= k <= hi:
            continue
        if result.objective >= need - tol:
            hi = min(hi, k)
        elif result.bound < need - tol:
            lo = max(lo, k + 1)
    undecided: int | None = None
    while lo < hi:
        mid = (lo + hi) // 2
        result = frontier.solve(mid, radius_km)
        if result.objective >= need - tol:
            hi = mid
        elif result.bound < need - tol:
            lo = mid + 1
        else:
            undecided = mid
            break
    plan = frontier.solve(hi, radius_km)
    answer.update({
        "reached": True, "stations": hi, "best_share": frontier.share(plan.objective),
        "station_ids": [site_ids[int(j)] for j in plan.open_sites],
    })
    if undecided is not None:
        below = frontier.solve(undecided, radius_km)
        answer["statement"] = (
            f"{hi} stations reach {_pct(frontier.share(plan.objective))}; whether "
            f"{undecided} could is not decided (best found "
            f"{_pct(frontier.share(below.objective))}, bound "
            f"{_pct(frontier.share(below.bound))}; raise --time-limit)"
        )
        return answer
    answer["proven"] = True
    if hi == frontier.fewest():
        answer["statement"] = (
            f"{hi} stations reach {_pct(frontier.share(plan.objective))} of people within "
            f"{radius_km:g} km, and no plan may have fewer"
        )
        return answer
    below = frontier.solve(hi - 1, radius_km)
    assert below.bound < need - tol
    answer["below_stations"] = hi - 1
    answer["below_bound_share"] = frontier.share(below.bound)
    answer["statement"] = (
        f"{hi} stations are the fewest that reach {_pct(coverage)} of people within "
        f"{radius_km:g} km ({_pct(frontier.share(plan.objective))}); with {hi - 1} at most "
        f"{_pct(frontier.share(below.bound))} are (maximal coverage, "
        f"{'proven optimal' if below.is_optimal() else 'proven bound'}), and fewer "
        "stations never cover more"
    )
    return answer
