"""Layer readers: villages, roads, depots/towns/sites → checked GeoDataFrames.

Every layer is checked against the data contract in the README; problems are collected
into a list (one line each, naming the file and the row id or column at fault) and notes
(warnings that do not stop a run) into another; :func:`rural_logistics.io.read_region`
raises them together.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from rural_logistics.config import DataSettings, NetworkSettings, StationColumns
from rural_logistics.io.formats import (
    MAX_LINES_PER_CHECK,
    read_layer,
    restore_shapefile_names,
)
from rural_logistics.io.formats import (
    more as _more,
)
from rural_logistics.io.station_terms import (
    TERM_COLUMNS,
    read_station_terms,
    term_column_names,
    terms_note,
    with_terms,
)
from rural_logistics.text import ids_text

#: Largest population accepted for one village (guards the solvers' integer scaling).
MAX_VILLAGE_POPULATION = 10_000_000
#: Fastest road speed accepted in a data file, km/h.
MAX_SPEED_KPH = 300.0
#: Largest farm produce accepted for one village, kg per day.
MAX_PRODUCE_KG_PER_DAY = 10_000_000
#: Optional village columns the tool reads (besides the configured id/population/name).
VILLAGE_COLUMNS = ("township", "households", "existing_station", "produce_kg_per_day",
                   "name_zh")
#: Values of an OpenStreetMap-style ``oneway`` column.
ONEWAY_FORWARD = frozenset({"yes", "true", "1", "t", "y"})
ONEWAY_BACKWARD = frozenset({"-1", "reverse"})


def to_crs(
    gdf: gpd.GeoDataFrame,
    crs: str,
    path: Path,
    problems: list[str],
    labels: np.ndarray | None = None,
) -> gpd.GeoDataFrame:
    """Reproject; a missing CRS or coordinates that cannot be projected are problems.

    Returns the layer unchanged (its ``crs`` still ``None``) when it has no CRS.
    """
    if gdf.crs is None:
        problems.append(f"{path}: layer has no CRS (save it with a CRS, e.g. EPSG:4326)")
        return gdf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = gdf.to_crs(crs)
    values = out.geometry.to_numpy()
    present = ~(out.geometry.isna().to_numpy() | out.geometry.is_empty.to_numpy())
    if present.any():
        coords, index = shapely.get_coordinates(values[present], return_index=True)
        finite = np.ones(int(present.sum()), dtype=bool)
        np.logical_and.at(finite, index, np.isfinite(coords).all(axis=1))
        bad = np.flatnonzero(present)[~finite]
        if len(bad):
            names = labels if labels is not None else np.array([f"row {i + 1}" for i in
                                                                range(len(gdf))])
            shown = ids_text(names[bad], limit=MAX_LINES_PER_CHECK)
            problems.append(
                f"{path}: {shown}: coordinates cannot be projected from the layer's "
                f"CRS {gdf.crs.to_string()} to {crs} (out of range for that CRS: "
                "wrong CRS, or x/y swapped?)"
            )
    return out


def _check_columns(
    gdf: gpd.GeoDataFrame, path: Path, required: tuple[str, ...], problems: list[str]
) -> bool:
    missing = [c for c in required if c not in gdf.columns]
    if missing:
        have = ", ".join(c for c in gdf.columns if c != gdf.geometry.name) or "none"
        problems.append(f"{path}: missing column(s) {', '.join(missing)} (has: {have})")
        return False
    return True


def _check_geometry(
    gdf: gpd.GeoDataFrame,
    path: Path,
    labels: np.ndarray,
    allowed: tuple[str, ...],
    problems: list[str],
) -> np.ndarray:
    """Return a boolean mask of usable rows; record problems for the others."""
    geoms = gdf.geometry
    empty = geoms.isna().to_numpy() | geoms.is_empty.to_numpy()
    kinds = np.asarray(geoms.geom_type.to_numpy(), dtype=object)
    wrong = ~empty & ~np.isin(kinds, allowed)
    ok_kind = ~empty & ~wrong
    values = geoms.to_numpy()
    invalid = np.zeros(len(gdf), dtype=bool)
    if ok_kind.any():
        coords, index = shapely.get_coordinates(values[ok_kind], return_index=True)
        finite = np.ones(int(ok_kind.sum()), dtype=bool)
        np.logical_and.at(finite, index, np.isfinite(coords).all(axis=1))
        valid = shapely.is_valid(values[ok_kind]) & finite
        invalid[np.flatnonzero(ok_kind)[~valid]] = True
    for label in labels[empty][:MAX_LINES_PER_CHECK]:
        problems.append(f"{path}: {label}: empty or missing geometry")
    _more(problems, path, int(empty.sum()), "empty or missing geometries")
    for label, kind in list(zip(labels[wrong], kinds[wrong], strict=True))[:MAX_LINES_PER_CHECK]:
        problems.append(f"{path}: {label}: geometry is {kind}, expected {' or '.join(allowed)}")
    _more(problems, path, int(wrong.sum()), f"geometries that are not {' or '.join(allowed)}")
    for label, geom in list(zip(labels[invalid], values[invalid], strict=True))[
        :MAX_LINES_PER_CHECK
    ]:
        reason = shapely.is_valid_reason(geom)
        if reason == "Valid Geometry":
            reason = "coordinates are not finite numbers"
        problems.append(f"{path}: {label}: invalid geometry ({reason})")
    _more(problems, path, int(invalid.sum()), "invalid geometries")
    return ~(empty | wrong | invalid)


def _truthy(values: pd.Series) -> pd.Series:
    if values.dtype == bool:
        return values
    text = values.astype(str).str.strip().str.lower()
    return text.isin({"true", "1", "yes", "y", "t"})


def _configured_absent(
    gdf: gpd.GeoDataFrame, path: Path, settings: list[tuple[str, str | None]],
    problems: list[str],
) -> bool:
    """Columns named in the config (``(key, value)``, value ``None`` = not configured)
    that the layer lacks: one problem each. Returns whether all configured ones exist."""
    have = ", ".join(str(c) for c in gdf.columns if c != gdf.geometry.name) or "none"
    ok = True
    for key, value in settings:
        if value is not None and value not in gdf.columns:
            problems.append(f"{path}: {key}: column {value!r} is not in the layer (has: {have})")
            ok = False
    return ok


def _layer(data: DataSettings, key: str) -> str | None:
    return data.layers.get(key)  # type: ignore[call-overload]


def read_villages(
    data: DataSettings,
    problems: list[str],
    notes: list[str] | None = None,
    *,
    columns: StationColumns | None = None,
    station_terms: bool = True,
) -> gpd.GeoDataFrame | None:
    """The villages layer, checked; with ``station_terms`` (the villages are the candidate
    sites) also the per-station term columns of ``columns``
    (:mod:`rural_logistics.io.station_terms`)."""
    notes = [] if notes is None else notes
    columns = StationColumns() if columns is None else columns
    path = data.villages
    gdf = read_layer(path, lon_column=data.lon_column, lat_column=data.lat_column,
                     layer=_layer(data, "villages"), key="villages",
                     coordinate_system=data.coordinate_system)
    if len(gdf) == 0:
        problems.append(f"{path}: no villages in the layer")
        return None
    id_col, pop_col, name_col = data.id_col, data.population_col, data.name_col
    gdf = restore_shapefile_names(
        gdf, path, [id_col, pop_col, name_col, *VILLAGE_COLUMNS, *term_column_names(columns)],
        problems, notes,
    )
    configured = _configured_absent(gdf, path, [
        ("data.id_column", data.id_column), ("data.population_column", data.population_column),
        ("data.name_column", data.name_column)], problems)
    if not configured or not _check_columns(gdf, path, (id_col, pop_col), problems):
        return None
    ids = gdf[id_col].astype(object).where(gdf[id_col].notna(), "").astype(str).str.strip()
    labels = np.array([f"village {v}" for v in ids])
    dupes = sorted(set(ids[ids.duplicated()]))
    if dupes:
        problems.append(f"{path}: duplicate village id(s): {', '.join(dupes[:10])}")
    blank = ids.isin(["", "nan", "None", "<NA>"])
    if blank.any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(blank.to_numpy())[:10])
        problems.append(f"{path}: empty village id in feature(s) {rows} (counting from 1)")
    population = pd.to_numeric(gdf[pop_col], errors="coerce")
    bad_pop = (
        population.isna()
        | (population < 0)
        | (population > MAX_VILLAGE_POPULATION)
        | ~np.isfinite(population.fillna(0))
    )
    for label, value in list(zip(labels[bad_pop.to_numpy()], gdf[pop_col][bad_pop],
                                 strict=True))[:MAX_LINES_PER_CHECK]:
        problems.append(
            f"{path}: {label}: {pop_col} must be a number from 0 to "
            f"{MAX_VILLAGE_POPULATION:,} (got {value!r})"
        )
    _more(problems, path, int(bad_pop.sum()), "villages with a bad population")
    if not bad_pop.any() and population.sum() <= 0:
        problems.append(f"{path}: total population is 0; nothing to serve")
    _check_geometry(gdf, path, labels, ("Point",), problems)
    produce = (
        pd.to_numeric(gdf["produce_kg_per_day"], errors="coerce")
        if "produce_kg_per_day" in gdf.columns
        else pd.Series(0.0, index=gdf.index)
    )
    bad_produce = produce.isna() | (produce < 0) | (produce > MAX_PRODUCE_KG_PER_DAY)
    if "produce_kg_per_day" in gdf.columns:
        for label in labels[bad_produce.to_numpy()][:MAX_LINES_PER_CHECK]:
            problems.append(
                f"{path}: {label}: produce_kg_per_day must be a number from 0 to "
                f"{MAX_PRODUCE_KG_PER_DAY:,}"
            )
        _more(problems, path, int(bad_produce.sum()), "villages with bad produce_kg_per_day")
    terms = None
    if station_terms:
        terms, _ = read_station_terms(gdf, path, labels, columns, problems)
        note = terms_note(path, terms, columns, "village")
        if note:
            notes.append(note)
    out = gpd.GeoDataFrame(
        {
            "village_id": ids,
            "name": point_names(gdf, name_col, ids),
            "township": gdf["township"].astype(str) if "township" in gdf.columns else "",
            "population": population.fillna(0).to_numpy(dtype=float),
            "households": pd.to_numeric(gdf["households"], errors="coerce").to_numpy()
            if "households" in gdf.columns
            else np.nan,
            "existing_station": _truthy(gdf["existing_station"]).to_numpy()
            if "existing_station" in gdf.columns
            else False,
            "produce_kg_per_day": produce.fillna(0).clip(lower=0).to_numpy(dtype=float),
        },
        geometry=gdf.geometry.to_numpy(),
        crs=gdf.crs,
    )
    return out if terms is None else with_terms(out, terms)


def point_names(gdf: gpd.GeoDataFrame, column: str, ids: pd.Series) -> np.ndarray:
    """The name column where given (blank names fall back to the id), else the ids."""
    if column not in gdf.columns:
        return ids.to_numpy()
    names = gdf[column].where(gdf[column].notna(), "").astype(str).str.strip()
    return np.where(names != "", names, ids).astype(object)


def _oneway(gdf: gpd.GeoDataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """(one-way, reversed) per road from an OSM-style column (yes/true/1, -1/reverse)."""
    if column not in gdf.columns:
        zeros = np.zeros(len(gdf), dtype=bool)
        return zeros, zeros
    values = gdf[column]
    if values.dtype == bool:
        return values.to_numpy(dtype=bool), np.zeros(len(gdf), dtype=bool)
    text = values.where(values.notna(), "").astype(str).str.strip().str.lower()
    backward = text.isin(ONEWAY_BACKWARD).to_numpy()
    return text.isin(ONEWAY_FORWARD).to_numpy() | backward, backward


def _read_osm_roads(
    path: Path, network: NetworkSettings, crs: str, problems: list[str]
) -> gpd.GeoDataFrame | None:
    """``data.roads`` given as an OpenStreetMap file: drivable ways with OSM speeds, the
    config's ``speed_kph_by_class`` updating the OSM table (see :mod:`rural_logistics.osm`)."""
    from rural_logistics.osm import OSM_SPEED_KPH, read_osm_roads

    table = {**OSM_SPEED_KPH, **{k.lower(): v for k, v in network.speed_kph_by_class.items()}}
    roads = read_osm_roads(path, speeds=table).roads
    if roads.empty:
        problems.append(f"{path}: no drivable road (highway values {', '.join(sorted(table))})")
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        projected = roads.to_crs(crs)
    return gpd.GeoDataFrame(
        {"road_class": roads["road_class"].to_numpy(),
         "speed_kph": roads["speed_kph"].to_numpy(dtype=float),
         "oneway": roads["oneway"].to_numpy(dtype=bool)},
        geometry=projected.geometry.to_numpy(), crs=crs,
    )


def read_roads(
    path: Path,
    network: NetworkSettings,
    crs: str,
    problems: list[str],
    notes: list[str] | None = None,
    data: DataSettings | None = None,
) -> gpd.GeoDataFrame | None:
    from rural_logistics.io.checks import default_speed_notes, raw_osm_problem
    from rural_logistics.osm import is_osm_file

    notes = [] if notes is None else notes
    if is_osm_file(path):
        return _read_osm_roads(path, network, crs, problems)
    gdf = read_layer(
        path, layer=_layer(data, "roads") if data else None, key="roads",
        coordinate_system=data.roads_coordinate_system if data else "wgs84",
    )
    if len(gdf) == 0:
        problems.append(f"{path}: no roads in the layer")
        return None
    class_col, speed_col, one_col = (
        network.road_class_col, network.speed_col, network.oneway_col
    )
    gdf = restore_shapefile_names(gdf, path, [class_col, speed_col, one_col], problems, notes)
    if not _configured_absent(gdf, path, [
        ("network.road_class_column", network.road_class_column),
        ("network.speed_column", network.speed_column),
        ("network.oneway_column", network.oneway_column),
    ], problems):
        return None
    osm_problem = raw_osm_problem(gdf, path, class_col, network.speed_kph_by_class)
    if osm_problem:
        problems.append(osm_problem)
    labels = np.array(
        [f"road {v}" for v in (gdf["road_id"] if "road_id" in gdf.columns else gdf.index)]
    )
    usable = _check_geometry(gdf, path, labels, ("LineString", "MultiLineString"), problems)
    gdf = to_crs(gdf, crs, path, problems, labels)
    if gdf.crs is None:
        return None
    gdf = gdf[usable]
    speeds = pd.Series(network.default_speed_kph, index=gdf.index, dtype=float)
    by_class = {k.lower(): v for k, v in network.speed_kph_by_class.items()}
    if class_col in gdf.columns:
        raw = gdf[class_col]
        classes = raw.where(raw.notna(), "").astype(str).str.strip().str.lower()
        speeds = classes.map(by_class).fillna(network.default_speed_kph).astype(float)
    else:
        classes = pd.Series("", index=gdf.index)
    given = pd.Series(np.nan, index=gdf.index)
    if speed_col in gdf.columns:
        given = pd.to_numeric(gdf[speed_col], errors="coerce")
        bad = given.notna() & ((given <= 0) | (given > MAX_SPEED_KPH))
        for label in labels[usable][bad.to_numpy()][:MAX_LINES_PER_CHECK]:
            problems.append(
                f"{path}: {label}: {speed_col} must be > 0 and at most "
                f"{MAX_SPEED_KPH:g} km/h (or empty for the class speed)"
            )
        _more(problems, path, int(bad.sum()), f"roads with a bad {speed_col}")
        # Below 1 km/h a road is as good as closed: the class speed is used instead.
        given = given.where((given >= 1) & (given <= MAX_SPEED_KPH))
        speeds = given.fillna(speeds)
    own_speed = given.notna().to_numpy()
    notes.extend(default_speed_notes(
        path, classes.to_numpy(dtype=object), own_speed, gdf.geometry.length.to_numpy(),
        known=set(by_class), network=network, class_present=class_col in gdf.columns,
    ))
    oneway, backward = _oneway(gdf, one_col)
    geometry = gdf.geometry.to_numpy().copy()
    if backward.any():
        geometry[backward] = shapely.reverse(geometry[backward])
    roads = gpd.GeoDataFrame(
        {"road_class": classes.to_numpy(), "speed_kph": speeds.to_numpy(),
         "oneway": oneway},
        geometry=geometry,
        crs=crs,
    )
    return roads.explode(index_parts=False).reset_index(drop=True)


def read_points(
    path: Path,
    data: DataSettings,
    crs: str,
    what: str,
    problems: list[str],
    key: str | None = None,
    notes: list[str] | None = None,
    *,
    columns: StationColumns | None = None,
    terms_required: bool = True,
) -> gpd.GeoDataFrame | None:
    """A point layer (depots, towns, candidate sites), checked; with ``columns`` (a layer
    of candidate sites) also the per-station term columns
    (:mod:`rural_logistics.io.station_terms`; ``terms_required``: a configured column
    the layer lacks is a problem)."""
    notes = [] if notes is None else notes
    gdf = read_layer(path, lon_column=data.lon_column, lat_column=data.lat_column,
                     layer=_layer(data, key) if key else None, key=key,
                     coordinate_system=data.coordinate_system)
    if len(gdf) == 0:
        problems.append(f"{path}: no {what}s in the layer")
        return None
    id_col, name_col = data.id_col, data.name_col
    wanted = [id_col, name_col, "township"]
    if columns is not None:
        wanted += term_column_names(columns)
    gdf = restore_shapefile_names(gdf, path, wanted, problems, notes)
    if id_col not in gdf.columns and "id" in gdf.columns:
        id_col = "id"  # data.id_column names the villages' codes; other layers may use id
    if not _check_columns(gdf, path, (id_col,), problems):
        return None
    ids = gdf[id_col].astype(object).where(gdf[id_col].notna(), "").astype(str).str.strip()
    dupes = sorted(set(ids[ids.duplicated()]))
    if dupes:
        problems.append(f"{path}: duplicate {what} id(s): {', '.join(dupes[:10])}")
    blank = ids.isin(["", "nan", "None", "<NA>"])
    if blank.any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(blank.to_numpy())[:10])
        problems.append(f"{path}: empty {what} id in feature(s) {rows}")
    labels = np.array([f"{what} {v}" for v in ids])
    usable = _check_geometry(gdf, path, labels, ("Point",), problems)
    terms = None
    if columns is not None:
        terms, _ = read_station_terms(
            gdf, path, labels, columns, problems, required=terms_required
        )
        note = terms_note(path, terms, columns, what)
        if note:
            notes.append(note)
    gdf = to_crs(gdf, crs, path, problems, labels)
    if gdf.crs is None or not usable.all():
        return None
    names = point_names(gdf, name_col if name_col in gdf.columns else "name", ids)
    layer = gpd.GeoDataFrame(
        {
            "id": ids.to_numpy(),
            "name": names,
            "township": gdf["township"].astype(str).to_numpy()
            if "township" in gdf.columns
            else "",
        },
        geometry=gdf.geometry.to_numpy(),
        crs=crs,
    )
    return layer if terms is None else with_terms(layer, terms)


def _terms_of(layer: gpd.GeoDataFrame) -> dict[str, np.ndarray]:
    """The term columns of a layer (NaN where it has none: the config defaults)."""
    return {
        name: layer[name].to_numpy(dtype=float) if name in layer.columns
        else np.full(len(layer), np.nan)
        for name in TERM_COLUMNS.values()
    }


def build_candidate_sites(
    villages: gpd.GeoDataFrame,
    towns: gpd.GeoDataFrame | None,
    explicit: gpd.GeoDataFrame | None,
) -> gpd.GeoDataFrame:
    """Candidate station sites.

    Parameters
    ----------
    villages
        Village layer (``village_id, name, township, existing_station``).
    towns
        Township seats, or ``None``.
    explicit
        A candidate-site layer from the config; when given it replaces the default.

    Returns
    -------
    geopandas.GeoDataFrame
        ``site_id, name, township, village_id, existing``, the per-station terms
        ``tw_open_min, tw_close_min, service_time_min, unserved_penalty_per_parcel`` (NaN:
        the config default; see :mod:`rural_logistics.io.station_terms`), ``geometry``. By
        default every village (site id = village id) plus every township seat.
    """
    terms = list(TERM_COLUMNS.values())
    if explicit is not None:
        frame = explicit.rename(columns={"id": "site_id"}).copy()
        frame["village_id"] = None
        frame["existing"] = False
        for name, values in _terms_of(explicit).items():
            frame[name] = values
        return frame[["site_id", "name", "township", "village_id", "existing", *terms,
                      "geometry"]]
    parts = [
        gpd.GeoDataFrame(
            {
                "site_id": villages["village_id"].to_numpy(),
                "name": villages["name"].to_numpy(),
                "township": villages["township"].to_numpy(),
                "village_id": villages["village_id"].to_numpy(),
                "existing": villages["existing_station"].to_numpy(dtype=bool),
                **_terms_of(villages),
            },
            geometry=villages.geometry.to_numpy(),
            crs=villages.crs,
        )
    ]
    if towns is not None:
        parts.append(
            gpd.GeoDataFrame(
                {
                    "site_id": towns["id"].to_numpy(),
                    "name": towns["name"].to_numpy(),
                    "township": towns["township"].to_numpy(),
                    "village_id": None,
                    "existing": False,
                    **_terms_of(towns),
                },
                geometry=towns.geometry.to_numpy(),
                crs=towns.crs,
            )
        )
    sites = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=villages.crs)
    return sites


