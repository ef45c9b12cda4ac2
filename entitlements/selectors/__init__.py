"""The entitlement decision: one selector (``entitlement_get``) for the API, the consume path,
the admin and the list. A check is two statements whatever the event table holds
(``entitlements.sql``): the feature in force (subscription, plan value, override), then the
window's usage counter, open holds and credit balance. The list reads the effective plan through
``pricing_for_subscription`` and decides each feature the same way."""

from entitlements.selectors.decisions import (
    EntitlementDecision,
    decision_after,
    decision_for,
    entitlement_get,
    entitlements_list,
    upgrade_plans,
)
from entitlements.selectors.in_force import (
    LIVE,
    InForce,
    billing_period_at,
    feature_in_force,
    in_force_of_row,
    live_subscriptions,
)
from entitlements.selectors.window import Prefetched, WindowState, held_quantity, window_state

__all__ = [
    "LIVE",
    "EntitlementDecision",
    "InForce",
    "Prefetched",
    "WindowState",
    "billing_period_at",
    "decision_after",
    "decision_for",
    "entitlement_get",
    "entitlements_list",
    "feature_in_force",
    "held_quantity",
    "in_force_of_row",
    "live_subscriptions",
    "upgrade_plans",
    "window_state",
]
