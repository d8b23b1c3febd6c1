"""Report figures: the KPI rows, number formatting, per-township and worst-served tables."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rural_logistics.metrics import weighted_mean
from rural_logistics.plan import Plan
from rural_logistics.text import plural

WORST_N = 10


def number(value: Any) -> float | None:
    """A finite float, or ``None`` for missing, boolean or non-numeric values."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        f = float(value)
        return f if math.isfinite(f) else None
    return None


def _minus(text: str) -> str:
    return text.replace("-", "\u2212")


@dataclass(frozen=True)
class Kpi:
    """One row of the KPI table.

    Attributes
    ----------
    key
        The ``summary.json`` key.
    label
        Row label.
    decimals
        Decimals shown; shares are shown in percent with this many decimals.
    better
        ``+1`` if more is better, ``-1`` if less is better, ``0`` if neither.
    percent
        The value is a share (0–1) shown in percent; its delta in percentage points.
    needs_full_delivery
        A cost figure (cost, vehicles, km): compared (green/red) only between runs that
        both deliver every parcel; a partial or infeasible run's looks cheaper than it is.
    """

    key: str
    label: str
    decimals: int
    better: int = 0
    percent: bool = False
    needs_full_delivery: bool = False

    def format(self, value: Any) -> str:
        """The value as shown in the table (``"n/a"`` when missing)."""
        v = number(value)
        if v is None:
            return "n/a"
        if self.percent:
            return _minus(f"{100 * v:.{self.decimals}f} %")
        return _minus(f"{v:,.{self.decimals}f}")

    def format_delta(
        self, value: Any, base: Any, *, comparable: bool = True
    ) -> tuple[str, str]:
        """The change from ``base`` to ``value`` and its CSS class (better/worse/same;
        ``not comparable`` in class ``na`` for a cost figure when either run leaves
        parcels undelivered)."""
        v, b = number(value), number(base)
        if v is None or b is None:
            return "", "same"
        if self.needs_full_delivery and not comparable:
            return "not comparable", "na"
        diff = (v - b) * (100 if self.percent else 1)
        shown = round(diff, self.decimals)
        if shown == 0:
            return "±0", "same"
        unit = " pp" if self.percent else ""
        text = _minus(f"{shown:+,.{self.decimals}f}{unit}")
        if self.better == 0:
            return text, "neutral"
        return text, "better" if diff * self.better > 0 else "worse"


#: The KPI table rows, in order.
KPIS: tuple[Kpi, ...] = (
    Kpi("delivered_share", "Parcels delivered, share of demand", 1, +1, True),
    Kpi("stations_open", "Stations open", 0),
    Kpi("population_within_radius_share", "Population within radius, share", 1, +1, True),
    Kpi("population_within_radius", "Population within radius, people", 0, +1),
    Kpi("mean_access_km", "Mean access distance, km", 2, -1),
    Kpi("p90_access_km", "90th percentile access distance, km", 2, -1),
    Kpi("max_access_km", "Max access distance, km", 2, -1),
    Kpi("mean_access_min", "Mean access time, min", 1, -1),
    Kpi("p90_access_min", "90th percentile access time, min", 1, -1),
    Kpi("max_access_min", "Max access time, min", 1, -1),
    Kpi("villages_beyond_5km", "Villages beyond 5 km", 0, -1),
    Kpi("villages_beyond_10km", "Villages beyond 10 km", 0, -1),
    Kpi("access_gini", "Gini of access distance (0 = equal)", 3, -1),
    Kpi("vehicles_used", "Vehicles used", 0, -1, needs_full_delivery=True),
    Kpi("routes", "Routes", 0),
    Kpi("total_route_km", "Route km per day", 1, -1, needs_full_delivery=True),
    Kpi("parcels_per_day", "Parcels per day (demand)", 0),
    Kpi("delivered_parcels_per_day", "Parcels per day delivered", 0, +1),
    Kpi("produce_collected_kg_per_day", "Produce collected, kg per day", 1, +1),
    Kpi("produce_left_behind_kg_per_day", "Produce left behind, kg per day", 1, -1),
    Kpi("total_cost_per_day", "Cost per day (stations, hubs, vehicles, km)", 0, -1,
        needs_full_delivery=True),
    Kpi("cost_per_parcel", "Cost per parcel delivered (all costs)", 2, -1,
        needs_full_delivery=True),
)


def delivers_all(summary: Any) -> bool:
    """Whether a run delivers every parcel (``comparable`` in ``summary.json``; for a run
    written before that key, delivered against demand)."""
    if "comparable" in summary:
        return bool(summary["comparable"])
    delivered = number(summary.get("delivered_parcels_per_day"))
    demand = number(summary.get("parcels_per_day"))
    return delivered is not None and demand is not None and delivered >= demand - 0.5


def count_text(value: Any, word: str) -> str:
    """``"1 station"``, ``"3 stations"``; ``"n/a stations"`` when the value is missing."""
    v = number(value)
    return f"n/a {word}s" if v is None else plural(round(v), word)


def fmt_int(value: Any) -> str:
    v = number(value)
    return "n/a" if v is None else f"{v:,.0f}"


def fmt(value: Any, decimals: int) -> str:
    v = number(value)
    return "n/a" if v is None else _minus(f"{v:,.{decimals}f}")


# --------------------------------------------------------------------------- tables


def township_table(plan: Plan) -> pd.DataFrame:
    """Per-township figures of a plan.

    Parameters
    ----------
    plan
        The plan; villages without a ``township`` are grouped as ``"(none)"``.

    Returns
    -------
    pandas.DataFrame
        Indexed by township name (sorted), columns ``villages, population, stations,
        population_covered, share_covered`` (share of the township's population within
        the service radius of its station) and ``mean_access_km`` (population-weighted,
        over villages with a station; NaN when there are none).
    """
    v = plan.villages
    town = _township_names(v)
    pop = pd.to_numeric(v["population"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    km = pd.to_numeric(v["access_km"], errors="coerce").to_numpy(dtype=float)
    assigned = assigned_mask(v) & np.isfinite(km)
    within = _within(v, plan.radius_km) & assigned
    rows: dict[str, dict[str, float]] = {}
    for name in sorted(set(town)):
        m = town == name
        a = m & assigned
        total = float(pop[m].sum())
        covered = float(pop[m & within].sum())
        rows[name] = {
            "villages": int(m.sum()),
            "population": total,
            "population_covered": covered,
            "share_covered": covered / total if total > 0 else float("nan"),
            "mean_access_km": weighted_mean(km[a], pop[a]) if a.any() else float("nan"),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    s = plan.stations
    counts = _township_names(s).tolist() if len(s) else []
    table["stations"] = [counts.count(name) for name in table.index]
    extra = sorted(set(counts) - set(table.index))
    for name in extra:  # stations in a township without villages (rare)
        table.loc[name] = {"villages": 0, "population": 0.0, "population_covered": 0.0,
                           "share_covered": float("nan"), "mean_access_km": float("nan"),
                           "stations": counts.count(name)}
    return table[["villages", "population", "stations", "population_covered",
                  "share_covered", "mean_access_km"]]


def _township_names(layer: pd.DataFrame) -> np.ndarray:
    if "township" not in layer.columns:
        return np.full(len(layer), "(none)", dtype=object)
    names = layer["township"].astype(object).where(layer["township"].notna(), "(none)")
    names = names.astype(str).str.strip().replace("", "(none)")
    return names.to_numpy(dtype=object)


def assigned_mask(villages: pd.DataFrame) -> np.ndarray:
    if "station_id" not in villages.columns:
        return np.zeros(len(villages), dtype=bool)
    sid = villages["station_id"]
    return np.asarray(sid.notna() & (sid.astype(str).str.strip() != ""), dtype=bool)


def _within(villages: pd.DataFrame, radius_km: float) -> np.ndarray:
    if "within_radius" in villages.columns:
        return villages["within_radius"].fillna(False).astype(bool).to_numpy()
    km = pd.to_numeric(villages["access_km"], errors="coerce").to_numpy(dtype=float)
    return np.nan_to_num(km, nan=np.inf) <= radius_km


def worst_served(plan: Plan, *, n: int = WORST_N) -> pd.DataFrame:
    """The ``n`` villages with the longest access distance.

    Parameters
    ----------
    plan
        The plan.
    n
        How many villages to list.

    Returns
    -------
    pandas.DataFrame
        Columns ``village_id, name, township, population, access_km, access_min,
        station_id``; villages without a station come first, then by access distance
        (then time) descending, ties by village id.
    """
    v = pd.DataFrame(plan.villages.drop(columns=plan.villages.geometry.name, errors="ignore"))
    cols = ["village_id", "name", "township", "population", "access_km", "access_min",
            "station_id"]
    for col in cols:
        if col not in v.columns:
            v[col] = None
    v = v[cols].copy()
    v["_unassigned"] = ~assigned_mask(v)
    v["_km"] = pd.to_numeric(v["access_km"], errors="coerce").fillna(np.inf)
    v["_min"] = pd.to_numeric(v["access_min"], errors="coerce").fillna(np.inf)
    v["_id"] = v["village_id"].astype(str)
    v = v.sort_values(["_unassigned", "_km", "_min", "_id"],
                      ascending=[False, False, False, True], kind="stable")
    return v[cols].head(n).reset_index(drop=True)
