"""rural_logistics: plan rural e-commerce logistics networks.

The package turns a region config (villages, roads, depots, fleet) into a plan:
which village service stations to open, which villages each station serves, and
how vehicles run from the county distribution centre. See ``README.md``.
"""

from rural_logistics.errors import (
    ConfigError,
    InfeasibleError,
    InputDataError,
    RuralLogisticsError,
)

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "InfeasibleError",
    "InputDataError",
    "RuralLogisticsError",
    "__version__",
]
