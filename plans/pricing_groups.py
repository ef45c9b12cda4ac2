"""Pricing groups (Lago's ``grouped_by``, also ``pricing_group_keys``): a charge priced apart
for each distinct combination of the listed event properties' values.

Pure, like ``plans.pricing``: the caller aggregates the units of each group; each group is priced
on its own (tiers, free units and flat amounts apply per group), and the results keep the
order given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from plans.pricing import GROUPING_KEYS, ChargeModel, ChargeResult, price

Group = tuple[tuple[str, str | None], ...]  # ((property, value or None), ...)


def grouping_keys(properties: Mapping[str, Any]) -> tuple[str, ...]:
    """The properties a charge's price is grouped by (``grouped_by`` or ``pricing_group_keys``),
    in their order; () when not grouped. Assumes valid properties."""
    if not isinstance(properties, Mapping):
        return ()
    keys: list[str] = []
    for name in GROUPING_KEYS:
        for key in properties.get(name) or ():
            if key not in keys:
                keys.append(key)
    return tuple(keys)


@dataclass(frozen=True)
class GroupResult:
    group: Group
    result: ChargeResult

    def as_dict(self) -> dict[str, Any]:
        return {"group": dict(self.group)} | self.result.as_dict()


def price_groups(
    model: ChargeModel,
    properties: Mapping[str, Any],
    units_by_group: Mapping[Group, Decimal],
    event_values_by_group: Mapping[Group, Sequence[Decimal]] | None = None,
) -> tuple[GroupResult, ...]:
    """Price each group's units on its own (Lago's pricing groups), in the order given: tiers,
    free units and flat amounts apply per group."""
    values = event_values_by_group or {}
    return tuple(
        GroupResult(group, price(model, properties, units, values.get(group, ())))
        for group, units in units_by_group.items()
    )
