"""The README documents every config key and every summary.json key (a docs guard, as
sqlite-utils' test_docs keeps its CLI reference complete)."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from rural_logistics.config import RegionConfig
from rural_logistics.report import KPIS
from rural_logistics.summary import Summary

README = Path(__file__).resolve().parent.parent / "README.md"


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else len(text)]


def _model_of(annotation: object) -> type[BaseModel] | None:
    """The pydantic model inside an annotation (``X``, ``X | None``, ``tuple[X, ...]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def config_keys(model: type[BaseModel] = RegionConfig, prefix: str = "") -> list[str]:
    """Every config key as a dotted path; fields of list items after ``[].``
    (``fleet.vehicles[].capacity_kg``)."""
    keys = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        keys.append(path)
        inner = _model_of(info.annotation)
        if inner is not None:
            listed = typing.get_origin(info.annotation) is tuple
            keys.extend(config_keys(inner, f"{path}[]." if listed else f"{path}."))
    return keys


def summary_keys(td: object = Summary, prefix: str = "") -> list[str]:
    """Every summary.json key as a dotted path (nested sections included)."""
    keys = []
    for name, annotation in typing.get_type_hints(td).items():
        path = f"{prefix}{name}"
        keys.append(path)
        inner = annotation
        while typing.get_origin(inner) is typing.NotRequired:
            inner = typing.get_args(inner)[0]
        if typing.is_typeddict(inner):
            keys.extend(summary_keys(inner, f"{path}."))
    return keys


def _backticked(text: str) -> set[str]:
    return {m.strip() for m in re.findall(r"`([^`]+)`", text)}


def _documented_config_keys() -> list[str]:
    """The keys that need a mention: sections are named through their keys."""
    keys = config_keys()
    return [k for k in keys if not any(o.startswith(f"{k}.") for o in keys) or k == "hubs"]


@pytest.mark.parametrize("key", _documented_config_keys())
def test_config_key_is_documented(key: str) -> None:
    documented = _backticked(_section("Config reference"))
    # Fields of list items (fleet.vehicles[], hubs.candidates[]) are named by their leaf;
    # a list is named with its brackets.
    wanted = {key.rsplit("[].", 1)[-1]} if "[]." in key else {key, f"{key}[]"}
    assert wanted & documented, f"config key {key} is not in the README's config reference"


def _summary_rows() -> dict[str, str]:
    """The README's summary.json table: first backticked key of a row → the row."""
    rows = {}
    for line in (raw.strip() for raw in _section("Outputs").splitlines()):
        if line.startswith("| `"):
            first = re.findall(r"`([^`]+)`", line.split("|")[1])
            for key in first:
                rows[key] = line
    return rows


@pytest.mark.parametrize("key", summary_keys())
def test_summary_key_is_documented(key: str) -> None:
    rows = _summary_rows()
    parts = key.split(".")
    if len(parts) == 1:
        assert key in rows, f"summary key {key} has no row in the README's summary table"
        return
    # A key of a section is named in the row of its section (the deepest with a row).
    parents = [".".join(parts[:n]) for n in range(len(parts) - 1, 0, -1)]
    parent = next((p for p in parents if p in rows), None)
    assert parent is not None, f"summary section of {key} has no row in the README"
    assert f"`{parts[-1]}`" in rows[parent], f"{key} is not named in the row of {parent}"


def test_every_report_kpi_is_a_summary_key() -> None:
    assert {k.key for k in KPIS} <= set(typing.get_type_hints(Summary))


def test_the_key_lists_are_not_empty() -> None:
    # The guards above must see the nested keys, not only the top level.
    assert "fleet.vehicles[].capacity_kg" in config_keys()
    assert "hubs.candidates[].capacity_parcels_per_day" in config_keys()
    assert "location_routing.sequential.village_transport_per_day" in summary_keys()
    assert "placement.gap" in summary_keys()


def _nested_keys(td: object) -> list[str]:
    """Every key of a TypedDict, descending into sections and lists of sections."""
    keys = []
    for name, annotation in typing.get_type_hints(td).items():
        keys.append(name)
        inner = annotation
        while typing.get_origin(inner) in (typing.NotRequired, list):
            inner = typing.get_args(inner)[0]
        if typing.is_typeddict(inner):
            keys.extend(f"{name}.{k}" for k in _nested_keys(inner))
    return keys


def test_sweep_summary_keys_are_documented() -> None:
    from rural_logistics.summary import SweepSummary

    keys = _nested_keys(SweepSummary)
    assert "rows.station_ids" in keys and "curves.steps.coverage_gain" in keys
    section = _section("Sweeps: how many stations for what coverage and cost")
    named = _backticked(re.sub(r"```.*?```", "", section, flags=re.S))
    # The network section is summary.json's, documented in the Outputs table.
    missing = [k for k in keys if k.rsplit(".", 1)[-1] not in named
               and not k.startswith("network.")]
    assert not missing, f"sweep_summary.json keys not in the README's Sweeps section: {missing}"
