"""Side-by-side comparison of two plan versions: fields, charges (by metric), features (by slug).

Property changes are reported per leaf, with paths such as
``properties.graduated_ranges[1].per_unit_amount``, each labelled in words for the compare page
(``change_label``: "Tier 2 price per unit").
"""

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from billing_site.core.money import MONEY_DECIMAL_PLACES
from plans.charge_filters import filter_label
from plans.models import Charge, PlanFeature, PlanVersion

VERSION_DIFF_FIELDS = (
    "currency",
    "interval",
    "base_fee",
    "base_fee_in_advance",
    "trial_days",
    "invoice_grace_days",
    "net_payment_days",
)

ChangeKind = Literal["added", "removed", "changed"]

FIELD_WORDS = {
    "base_fee": "Base fee",
    "base_fee_in_advance": "Base fee paid in advance",
    "trial_days": "Trial days",
    "invoice_grace_days": "Invoice grace days",
    "net_payment_days": "Payment terms (days)",
    "charge_model": "Charge model",
    "invoice_display_name": "Invoice name",
    "min_amount": "Minimum per period",
    "prorated": "Prorated by day",
    "position": "Position on the invoice",
    "metric": "Metric",
    "amount": "Price",
    "free_units": "Free units",
    "package_size": "Package size",
    "rate": "Rate (%)",
    "fixed_amount": "Fixed fee per transaction",
    "free_units_per_events": "Free transactions",
    "free_units_per_total_aggregation": "Free amount",
    "per_transaction_min_amount": "Minimum fee per transaction",
    "per_transaction_max_amount": "Maximum fee per transaction",
    "grouped_by": "Priced per group of",
    "pricing_group_keys": "Priced per group of",
    "enabled": "Enabled",
    "value": "Value",
    "limit": "Limit",
    "reset_period": "Resets",
    "cap": "Cap",
    "alert_thresholds": "Alert thresholds",
}
TIER_WORDS = {
    "per_unit_amount": "price per unit",
    "flat_amount": "flat amount",
    "from_value": "from",
    "to_value": "to",
}
_TIER = re.compile(r"^(?:graduated|volume)_ranges\[(\d+)\](?:\.(\w+))?$")
_FILTER = re.compile(r"^filters\.(.+?)\.(properties\.(.+)|invoice_display_name)$")


def _words(path: str) -> str:
    tier = _TIER.match(path)
    if tier:
        number, key = int(tier.group(1)) + 1, tier.group(2)
        return f"Tier {number} {TIER_WORDS.get(key, key)}" if key else f"Tier {number}"
    head, _, rest = path.partition("[")
    words = FIELD_WORDS.get(head, head.replace("_", " ").capitalize())
    return f"{words} [{rest}" if rest else words


def change_label(path: str) -> str:
    """A changed leaf in words: "properties.graduated_ranges[1].per_unit_amount" -> "Tier 2
    price per unit"; "filters.region: eu.properties.amount" -> "Filter region: eu: price"."""
    found = _FILTER.match(path)
    if found:
        what = _words(found.group(3)) if found.group(3) else "Invoice name"
        return f"Filter {found.group(1)}: {what[0].lower()}{what[1:]}"
    return _words(path.removeprefix("properties."))


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any

    @property
    def label(self) -> str:
        return change_label(self.field)


@dataclass(frozen=True)
class ItemChange:
    """A charge (keyed by metric code) or plan feature (keyed by feature slug)."""

    key: str
    change: ChangeKind
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    fields: tuple[FieldChange, ...]


@dataclass(frozen=True)
class VersionDiff:
    old: PlanVersion
    new: PlanVersion
    fields: tuple[FieldChange, ...]
    charges: tuple[ItemChange, ...]
    features: tuple[ItemChange, ...]
    unchanged_charges: tuple[str, ...]
    unchanged_features: tuple[str, ...]

    @property
    def has_changes(self) -> bool:
        return bool(self.fields or self.charges or self.features)


def _text(value: Any) -> Any:
    # Every decimal column compared here has MONEY_DECIMAL_PLACES places; show them alike
    # whether the instance was just assigned or read back.
    if isinstance(value, Decimal):
        return format(value.quantize(Decimal(1).scaleb(-MONEY_DECIMAL_PLACES)), "f")
    return value


def _flatten(value: Any, prefix: str) -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(value, list):
        flat = {}
        for index, item in enumerate(value):
            flat.update(_flatten(item, f"{prefix}[{index}]"))
        return flat or {prefix: []}
    return {prefix: value}


def charge_as_dict(charge: Charge) -> dict[str, Any]:
    """A charge as the compare page flattens it; filters are keyed by what they match, so a
    change reads "filters.region: eu.properties.amount"."""
    return {
        "metric": charge.metric.code,
        "charge_model": charge.charge_model,
        "properties": charge.properties,
        "filters": {
            filter_label(f.get("values") or {}): {
                "properties": f.get("properties") or {},
                "invoice_display_name": f.get("invoice_display_name") or "",
            }
            for f in charge.filters or []
            if isinstance(f, dict)
        },
        "prorated": charge.prorated,
        "pay_in_advance": charge.pay_in_advance,
        "invoice_display_name": charge.invoice_display_name,
        "min_amount": _text(charge.min_amount),
        "position": charge.position,
    }


def plan_feature_as_dict(pf: PlanFeature) -> dict[str, Any]:
    return {
        "feature": pf.feature.slug,
        "enabled": pf.enabled,
        "value": pf.value,
        "limit": _text(pf.limit),
        "reset_period": pf.reset_period,
        "cap": pf.cap,
    }


def _field_changes(old: dict[str, Any], new: dict[str, Any]) -> tuple[FieldChange, ...]:
    flat_old, flat_new = _flatten(old, ""), _flatten(new, "")
    keys = list(flat_old) + [key for key in flat_new if key not in flat_old]
    return tuple(
        FieldChange(key, flat_old.get(key), flat_new.get(key))
        for key in keys
        if flat_old.get(key) != flat_new.get(key) or (key in flat_old) != (key in flat_new)
    )


def _items_diff(
    old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]
) -> tuple[tuple[ItemChange, ...], tuple[str, ...]]:
    changes: list[ItemChange] = []
    unchanged: list[str] = []
    for key in list(old) + [k for k in new if k not in old]:
        if key not in new:
            changes.append(ItemChange(key, "removed", old[key], None, ()))
        elif key not in old:
            changes.append(ItemChange(key, "added", None, new[key], ()))
        else:
            fields = _field_changes(old[key], new[key])
            if fields:
                changes.append(ItemChange(key, "changed", old[key], new[key], fields))
            else:
                unchanged.append(key)
    return tuple(changes), tuple(unchanged)


def plan_versions_diff(a: PlanVersion, b: PlanVersion) -> VersionDiff:
    """What changes going from version ``a`` to version ``b`` (any two versions, any plans)."""
    fields = tuple(
        FieldChange(name, _text(getattr(a, name)), _text(getattr(b, name)))
        for name in VERSION_DIFF_FIELDS
        if getattr(a, name) != getattr(b, name)
    )

    def charges(version: PlanVersion) -> dict[str, dict[str, Any]]:
        rows = version.charges.select_related("metric").order_by("position", "id")
        return {charge.metric.code: charge_as_dict(charge) for charge in rows}

    def features(version: PlanVersion) -> dict[str, dict[str, Any]]:
        rows = version.features.select_related("feature").order_by("feature__slug")
        return {pf.feature.slug: plan_feature_as_dict(pf) for pf in rows}

    charge_changes, unchanged_charges = _items_diff(charges(a), charges(b))
    feature_changes, unchanged_features = _items_diff(features(a), features(b))
    return VersionDiff(
        old=a,
        new=b,
        fields=fields,
        charges=charge_changes,
        features=feature_changes,
        unchanged_charges=unchanged_charges,
        unchanged_features=unchanged_features,
    )
