"""Each carrier's parcels per village, and the check of a ``carriers`` section against
the data (depots, sites, townships, share columns): one line per problem.

A carrier's share of a village's parcels is ``share`` (county-wide), overridden per
township by ``share_by_township`` (the villages' ``township`` column), or read per
village from ``share_column`` of the villages file. The shares of a village may add up
to less than 1 (the rest goes to carriers not planned here) but not to more.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rural_logistics.config import Carrier, CarriersSettings, RegionConfig
from rural_logistics.io.formats import read_layer
from rural_logistics.region import PreparedRegion
from rural_logistics.text import ids_text

#: Rounding allowed when the shares of a village add up to more than 1.
SHARE_TOL = 1e-6


def _column_shares(
    config: RegionConfig, prepared: PreparedRegion, carrier: Carrier, key: str,
    problems: list[str],
) -> np.ndarray:
    data = config.data
    column = str(carrier.share_column)
    raw = read_layer(data.villages, lon_column=data.lon_column, lat_column=data.lat_column,
                     layer=data.layers.get("villages"), key="villages",
                     coordinate_system=data.coordinate_system)
    if column not in raw.columns:
        problems.append(f"{key}.share_column: column {column!r} is not in {data.villages}")
        return np.zeros(len(prepared.village_ids))
    ids = raw[data.id_col].astype(str).str.strip()
    values = pd.to_numeric(raw[column], errors="coerce")
    by_id = dict(zip(ids, values, strict=True))
    out = np.array([by_id.get(v, np.nan) for v in prepared.village_ids], dtype=float)
    bad = [v for v, x in zip(prepared.village_ids, out, strict=True)
           if not (np.isfinite(x) and 0 <= x <= 1)]
    if bad:
        problems.append(f"{key}.share_column: {column!r} must be a number from 0 to 1 "
                        f"in village(s) {ids_text(bad)}")
    return np.where(np.isfinite(out), np.clip(out, 0, 1), 0.0)


def carrier_shares(
    config: RegionConfig, prepared: PreparedRegion, problems: list[str] | None = None
) -> np.ndarray:
    """``(n_carriers, n_villages)``: each carrier's share of each village's parcels.

    Problems (unknown township, missing or bad column) are appended to ``problems``.
    """
    problems = [] if problems is None else problems
    settings = config.carriers
    assert settings is not None
    townships = prepared.data.villages["township"].astype(str).to_numpy()
    rows = []
    for k, carrier in enumerate(settings.members):
        key = f"carriers.members[{k}] ({carrier.name})"
        if carrier.share_column is not None:
            rows.append(_column_shares(config, prepared, carrier, key, problems))
            continue
        share = np.full(len(townships), float(carrier.share or 0.0))
        for town, value in carrier.share_by_township.items():
            hit = townships == town
            if not hit.any():
                problems.append(f"{key}.share_by_township: {town!r} is not a township of "
                                f"the villages (their township column)")
            share[hit] = value
        rows.append(share)
    return np.vstack(rows)


def carriers_problems(config: RegionConfig, prepared: PreparedRegion) -> list[str]:
    """The ``carriers`` section against the data: depots, existing and competitor
    stations, shares (one line each, naming the key and the id)."""
    settings: CarriersSettings | None = config.carriers
    if settings is None:
        return []
    problems: list[str] = []
    depots = set(prepared.depot_ids)
    site_index = {s: j for j, s in enumerate(prepared.site_ids)}

    def site_problems(key: str, ids: tuple[str, ...]) -> None:
        unknown = [s for s in ids if s not in site_index]
        if unknown:
            problems.append(f"{key}: unknown candidate site(s) {ids_text(unknown)}")
        cut = [s for s in ids if s in site_index and not prepared.site_ok[site_index[s]]]
        if cut:
            problems.append(f"{key}: site(s) {ids_text(cut)} not reachable by road from the "
                            "distribution centre")
        dropped = [s for s in ids if s in config.placement.exclude_sites]
        if dropped:
            problems.append(f"{key}: site(s) {ids_text(dropped)} are in "
                            "placement.exclude_sites")

    for k, carrier in enumerate(settings.members):
        key = f"carriers.members[{k}] ({carrier.name})"
        missing = [d for d in carrier.depots if d not in depots]
        if missing:
            problems.append(f"{key}.depots: {ids_text(missing)} not in the depots layer "
                            f"({config.data.depots})")
        site_problems(f"{key}.existing_stations", carrier.existing_stations)
    site_problems("carriers.competitor_stations", settings.competitor_stations)
    shares = carrier_shares(config, prepared, problems)
    over = np.flatnonzero(shares.sum(axis=0) > 1 + SHARE_TOL)
    if len(over):
        ids = [prepared.village_ids[int(v)] for v in over]
        problems.append(f"carriers.members: the carriers' shares add up to more than 1 in "
                        f"village(s) {ids_text(ids)}")
    parcels = shares @ prepared.demand.parcels_per_day
    for k, carrier in enumerate(settings.members):
        if parcels[k] <= 0:
            problems.append(f"carriers.members[{k}] ({carrier.name}): no parcels (its share "
                            "is 0 in every village with demand)")
    return problems
