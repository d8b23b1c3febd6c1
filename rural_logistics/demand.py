"""Villages + scenario → parcels per day (and farm produce picked up)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rural_logistics.config import DemandSettings

DAYS_PER_YEAR = 365.0


@dataclass(frozen=True)
class Demand:
    """Daily flows per village for one scenario.

    Attributes
    ----------
    scenario
        Scenario name.
    multiplier
        Parcel multiplier of the scenario relative to a normal day.
    parcels_per_day
        Inbound parcels per village per day.
    produce_kg_per_day
        Outbound farm produce per village per day (kg).
    """

    scenario: str
    multiplier: float
    parcels_per_day: np.ndarray
    produce_kg_per_day: np.ndarray


def estimate_demand(
    population: np.ndarray,
    produce_kg_per_day: np.ndarray,
    *,
    settings: DemandSettings,
    scenario: str,
) -> Demand:
    """Parcels per day per village.

    ``parcels_per_day = population × parcels_per_capita_per_year / 365 × multiplier``,
    where the multiplier is ``settings.scenarios[scenario]``. Produce is scaled by
    ``settings.produce_multiplier[scenario]`` (1 when absent).

    Parameters
    ----------
    population
        Residents per village.
    produce_kg_per_day
        Farm produce offered per village on a normal day (kg).
    settings
        The config's ``demand`` section.
    scenario
        A key of ``settings.scenarios``.

    Returns
    -------
    Demand

    Raises
    ------
    KeyError
        If the scenario is unknown (the config validator normally prevents this).
    """
    multiplier = float(settings.scenarios[scenario])
    base = np.asarray(population, dtype=float) * settings.parcels_per_capita_per_year
    parcels = base / DAYS_PER_YEAR * multiplier
    produce = np.asarray(produce_kg_per_day, dtype=float) * float(
        settings.produce_multiplier.get(scenario, 1.0)
    )
    return Demand(
        scenario=scenario,
        multiplier=multiplier,
        parcels_per_day=parcels,
        produce_kg_per_day=produce,
    )
