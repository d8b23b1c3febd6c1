"""How the placed stations get their routes: one interface, one module per mode.

:mod:`~rural_logistics.delivery.base` holds the seam — :class:`DeliveryRequest` in,
:class:`Delivery` out, :class:`DeliveryMode` the protocol, one station-load function,
one node numbering —, and each mode is a module: ``direct`` (fleet from its depots to the
stations), ``location_routing`` (stations and routes searched together) and
``two_echelon`` (township hubs, trunk and last-mile tiers). :func:`delivery_mode` picks
the mode a config asks for from :data:`MODES`; later modes (several days, several
carriers) are added to that dict.
"""

from rural_logistics.config import RegionConfig
from rural_logistics.delivery.base import (
    Delivery,
    DeliveryMode,
    DeliveryRequest,
    RoutedTier,
    StationLoads,
    combine,
    loads_of,
)
from rural_logistics.delivery.direct import DirectDelivery
from rural_logistics.delivery.location_routing import LocationRoutingDelivery
from rural_logistics.delivery.peak import PeakWeekDelivery
from rural_logistics.delivery.two_echelon import TwoEchelonDelivery
from rural_logistics.delivery.weekly import WeeklyDelivery

#: Delivery modes by name.
MODES: dict[str, DeliveryMode] = {
    "direct": DirectDelivery(),
    "location_routing": LocationRoutingDelivery(),
    "two_echelon": TwoEchelonDelivery(),
    "peak_week": PeakWeekDelivery(),
    "weekly": WeeklyDelivery(),
}


def mode_name(config: RegionConfig) -> str:
    """The delivery mode a config asks for: ``weekly`` with a ``frequency`` section,
    ``peak_week`` with a ``peak`` section,
    ``two_echelon`` with a ``hubs`` section,
    ``location_routing`` with that placement method, else ``direct``."""
    if config.frequency is not None:
        return "weekly"
    if config.peak is not None:
        return "peak_week"
    if config.hubs is not None:
        return "two_echelon"
    if config.placement.method == "location_routing":
        return "location_routing"
    return "direct"


def delivery_mode(config: RegionConfig) -> DeliveryMode:
    """The :class:`DeliveryMode` for a config."""
    return MODES[mode_name(config)]


__all__ = [
    "MODES",
    "Delivery",
    "DeliveryMode",
    "DeliveryRequest",
    "RoutedTier",
    "StationLoads",
    "combine",
    "delivery_mode",
    "loads_of",
    "mode_name",
]
