"""Charge filters (Lago's ``filters``) and the rules of a charge's configuration as a whole.

Pure: no ORM. A charge's ``filters`` is a list of objects in Lago's shape::

    {"values": {"region": ["us"], "tier": ["gpu"]},   # property -> accepted values
     "properties": {"amount": "0.04"},                 # the filter's own charge-model properties
     "invoice_display_name": "US GPU tokens"}          # optional

Rules
- An event matches a filter when, for every key, its property has one of the values
  (``__ALL_FILTER_VALUES__``: any value). Values compare as the metric's filters do (as text).
- When filters overlap, the most specific wins: the one with the most keys; on a tie, the one
  listed first. Each event is priced once, by the filter it goes to.
- Events matching no filter are priced with the charge's default properties; a charge whose
  default properties are empty (``{}``) has no default and does not bill them.
- Each filter (and the default) may group its price by event properties (``grouped_by``): see
  ``plans.pricing``.
- Proration (``prorated``) applies to standard, graduated and volume charges over a recurring sum
  or unique_count metric, as in Lago. A percentage charge prices the period's transactions, so
  its metric is not recurring.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from plans.pricing import GROUPING_KEYS, PRORATABLE_MODELS, validate_properties
from plans.pricing_groups import grouping_keys

ANY_VALUE = "__ALL_FILTER_VALUES__"
FILTER_KEYS = ("values", "properties", "invoice_display_name")
PRORATABLE_AGGREGATIONS = ("sum", "unique_count")


def has_default(properties: Mapping[str, Any] | None) -> bool:
    """Whether events matching no filter are billed: a filtered charge may leave its default
    properties empty."""
    return bool(properties)


def filters_by_specificity(filters: Sequence[Mapping[str, Any]]) -> list[int]:
    """The indexes of ``filters`` in the order an event tries them: most keys first, then as
    listed."""
    return sorted(range(len(filters)), key=lambda i: (-len(filters[i].get("values") or {}), i))


def filter_for_event(
    filters: Sequence[Mapping[str, Any]], properties: Mapping[str, Any]
) -> int | None:
    """The index of the filter an event with ``properties`` goes to; None: the default."""
    for index in filters_by_specificity(filters):
        values = filters[index].get("values") or {}
        if all(
            key in properties
            and properties[key] is not None
            and (ANY_VALUE in accepted or _text(properties[key]) in map(_text, accepted))
            for key, accepted in values.items()
        ):
            return index
    return None


def _text(value: Any) -> str:
    """How an event property compares: as JSON text (2 matches "2", true matches "true")."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def filter_label(values: Mapping[str, Sequence[Any]]) -> str:
    """A filter in words, e.g. "region: us · tier: gpu, tpu"."""
    return " · ".join(
        f"{key}: {'any' if ANY_VALUE in vals else ', '.join(str(v) for v in vals)}"
        for key, vals in sorted(values.items())
    )


def charge_errors(
    *,
    charge_model: str,
    properties: Mapping[str, Any],
    filters: Any,
    prorated: bool,
    metric_aggregation: str,
    metric_recurring: bool,
    pay_in_advance: bool = False,
) -> dict[str, list[str]]:
    """Every problem of a charge's configuration, by field path (``properties.amount``,
    ``filters[1].values``, ``prorated``, ``pay_in_advance``); ``{}`` when valid."""
    errors: dict[str, list[str]] = {}

    def add(path: str, message: str) -> None:
        errors.setdefault(path, []).append(message)

    filter_list = filters if isinstance(filters, list) else None
    if filter_list is None:
        add("filters", "Filters must be a list of {values, properties, invoice_display_name}.")
    if not (filter_list and not has_default(properties)):
        for field, messages in validate_properties(charge_model, properties).items():  # type: ignore[arg-type]
            for message in messages:
                add(field if field == "charge_model" else f"properties.{field}", message)
    seen: list[dict[str, list[str]]] = []
    for index, raw in enumerate(filter_list or []):
        prefix = f"filters[{index}]"
        if not isinstance(raw, Mapping):
            add(prefix, f"Filter {index + 1} must be an object with values and properties.")
            continue
        for key in raw:
            if key not in FILTER_KEYS:
                add(f"{prefix}.{key}", f"Unknown key {key!r}; expected: {', '.join(FILTER_KEYS)}.")
        values = raw.get("values")
        if (
            not isinstance(values, Mapping)
            or not values
            or not all(
                isinstance(k, str)
                and k
                and isinstance(v, list)
                and v
                and all(isinstance(x, str | int | float | bool) for x in v)
                for k, v in values.items()
            )
        ):
            add(
                f"{prefix}.values",
                f"Filter {index + 1} values must map properties to non-empty lists of values, "
                f'e.g. {{"region": ["eu"]}}.',
            )
        else:
            normalized = {k: sorted(str(x) for x in v) for k, v in values.items()}
            if normalized in seen:
                add(f"{prefix}.values", f"Filter {index + 1} repeats an earlier filter's values.")
            seen.append(normalized)
        filter_properties = raw.get("properties")
        if not isinstance(filter_properties, Mapping):
            add(f"{prefix}.properties", f"Filter {index + 1} needs its charge properties.")
        else:
            problems = validate_properties(charge_model, filter_properties)  # type: ignore[arg-type]
            for field, messages in problems.items():
                for message in messages:
                    add(f"{prefix}.properties.{field}", message)
        name = raw.get("invoice_display_name", "")
        if not isinstance(name, str) or len(name) > 200:
            add(f"{prefix}.invoice_display_name", "Use a text of at most 200 characters.")
    if charge_model == "percentage" and metric_recurring:
        add(
            "charge_model",
            "A percentage charge prices each transaction of the period, so its metric cannot "
            "be recurring.",
        )
    if prorated:
        if charge_model not in PRORATABLE_MODELS:
            add(
                "prorated",
                f"A {charge_model} charge cannot be prorated; only "
                f"{', '.join(PRORATABLE_MODELS)} charges can (as in Lago).",
            )
        if not metric_recurring or metric_aggregation not in PRORATABLE_AGGREGATIONS:
            add(
                "prorated",
                "Only a charge on a recurring sum or unique_count metric can be prorated.",
            )
    if pay_in_advance:
        for message in advance_errors(
            charge_model=charge_model,
            properties=properties,
            filters=filter_list or [],
            prorated=prorated,
            metric_aggregation=metric_aggregation,
            metric_recurring=metric_recurring,
        ):
            add("pay_in_advance", message)
    return errors


ADVANCE_MODELS = ("standard", "package", "graduated")
ADVANCE_AGGREGATIONS = ("count", "sum", "unique_count")


def advance_errors(
    *,
    charge_model: str,
    properties: Mapping[str, Any],
    filters: Sequence[Any],
    prorated: bool,
    metric_aggregation: str,
    metric_recurring: bool,
) -> list[str]:
    """Why a charge cannot be paid in advance (each event priced as it arrives, continuing
    from the period's running total), as sentences; ``[]`` when it can."""
    problems = []
    if charge_model not in ADVANCE_MODELS:
        problems.append(
            f"A {charge_model} charge cannot be paid in advance; only "
            f"{', '.join(ADVANCE_MODELS)} charges can (an event's price must not lower the "
            "price of the events before it)."
        )
    if metric_aggregation not in ADVANCE_AGGREGATIONS or metric_recurring:
        problems.append(
            "Only a charge on a count, sum or unique_count metric that is not recurring can be "
            "paid in advance."
        )
    if prorated:
        problems.append("A prorated charge cannot be paid in advance.")
    grouped = isinstance(properties, Mapping) and any(properties.get(k) for k in GROUPING_KEYS)
    if filters or grouped:
        problems.append("A charge with filters or pricing groups cannot be paid in advance.")
    return problems


def all_grouping_keys(properties: Mapping[str, Any], filters: Sequence[Any]) -> tuple[str, ...]:
    """Every grouping key used by the default properties or a filter."""
    keys: list[str] = list(grouping_keys(properties))
    for raw in filters:
        for key in grouping_keys(raw.get("properties") or {}):
            if key not in keys:
                keys.append(key)
    return tuple(keys)
