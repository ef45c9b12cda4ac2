"""Writes of entitlements: ``from entitlements.services import entitlement_consume``."""

from entitlements.services.consume import (
    MAX_COUNT_EVENTS,
    ConsumeOutcome,
    entitlement_consume,
    units,
)
from entitlements.services.holds import (
    MAX_HOLD_SECONDS,
    HoldOutcome,
    hold_body,
    hold_commit,
    hold_release,
    hold_reserve,
    holds_expire,
)
from entitlements.services.refresh import usage_counters_refresh_stale

__all__ = [
    "MAX_COUNT_EVENTS",
    "MAX_HOLD_SECONDS",
    "ConsumeOutcome",
    "HoldOutcome",
    "entitlement_consume",
    "hold_body",
    "hold_commit",
    "hold_release",
    "hold_reserve",
    "holds_expire",
    "units",
    "usage_counters_refresh_stale",
]
