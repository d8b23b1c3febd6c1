"""rural_logistics: plan rural e-commerce logistics networks.

The package turns a region config (villages, roads, depots, fleet) into a plan:
which village service stations to open, which villages each station serves, and
how vehicles run from the county distribution centre. See ``README.md``.

The public API (``README.md``, "Python API")::

    import rural_logistics as rl

    config = rl.load_config("configs/demo_county.yaml").with_overrides(time_limit_s=20)
    plan = rl.plan_region(config)            # progress=... reports each stage
    rl.write_run(plan, "runs/demo", config=config, force=True)

The names of :data:`PUBLIC` are loaded on first use, so ``import rural_logistics`` stays
light (the command line starts without geopandas or the solvers) and the package root
stays on its low floor of the import layering (``tests/test_architecture.py``). Type
checkers see them as ``Any`` here; import them from their modules for full types.
"""

from __future__ import annotations

import importlib
from typing import Any

from rural_logistics.errors import (
    ConfigError,
    InfeasibleError,
    InputDataError,
    OutputError,
    RuralLogisticsError,
)

__version__ = "0.1.0"

#: Public name → the module that defines it (imported when the name is first used).
PUBLIC: dict[str, str] = {
    "RegionConfig": "rural_logistics.config",
    "load_config": "rural_logistics.config",
    "validate_inputs": "rural_logistics.validation",
    "Plan": "rural_logistics.plan",
    "Progress": "rural_logistics.region",
    "plan_region": "rural_logistics.pipeline",
    "write_run": "rural_logistics.outputs",
    "compare_runs": "rural_logistics.report",
}

def __getattr__(name: str) -> Any:
    """Load a public name from its module on first use (PEP 562)."""
    module = PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'rural_logistics' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *PUBLIC])


__all__ = [
    "ConfigError",
    "InfeasibleError",
    "InputDataError",
    "OutputError",
    "Plan",
    "Progress",
    "RegionConfig",
    "RuralLogisticsError",
    "__version__",
    "compare_runs",
    "load_config",
    "plan_region",
    "validate_inputs",
    "write_run",
]
