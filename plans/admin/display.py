"""How the catalog reads to a person: charge summaries, example sentences, tier tables.

No money is computed here: amounts come from ``plans.pricing``; this module only words them.
"""

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from plans.charge_filters import filter_label, filters_by_specificity
from plans.models import Charge, Feature, PlanFeature
from plans.pricing import PricingError, example_sentence
from plans.pricing_groups import grouping_keys
from plans.sentences import money_text, price_sentence, unit_price_text

TIERED_MODELS = ("graduated", "volume")
DEFAULT_EXAMPLE_UNITS = Decimal("1500")


def plain(value: Any) -> str:
    """A JSON number or numeric string as people write it: 1,000 and 0.001 (no exponent)."""
    if value is None or value == "":
        return "—"
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if not number.is_finite():
        return str(value)
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    whole, _, fraction = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    grouped = f"{int(whole.lstrip('-') or 0):,}"
    return sign + grouped + (f".{fraction}" if fraction else "")


RESET_WORDS = {
    "billing": "per billing period",
    "day": "per day",
    "week": "per week",
    "month": "per month",
    "never": "in total (never resets)",
}


def plan_feature_text(pf: PlanFeature) -> str:
    """What a plan feature grants, e.g. "10,000 per billing period (soft cap)"."""
    if pf.feature.kind == Feature.Kind.BOOLEAN:
        return "enabled" if pf.enabled else "disabled"
    if pf.feature.kind == Feature.Kind.STATIC:
        return str(pf.value)
    if pf.limit is None:
        return "unlimited"
    return f"{plain(pf.limit)} {RESET_WORDS.get(pf.reset_period, pf.reset_period)} ({pf.cap} cap)"


def tiers_of(charge_model: str, properties: dict[str, Any]) -> list[dict[str, Any]]:
    if charge_model not in TIERED_MODELS:
        return []
    tiers = properties.get(f"{charge_model}_ranges")
    return [tier for tier in tiers or [] if isinstance(tier, dict)]


def tier_range(tier: dict[str, Any]) -> str:
    if tier.get("to_value") in (None, ""):
        return f"{plain(tier.get('from_value'))} and up"
    return f"{plain(tier.get('from_value'))} – {plain(tier.get('to_value'))}"


def charge_summary(charge_model: str, properties: dict[str, Any], currency: str = "") -> str:
    """One line, e.g. "$0.01 per unit, first 700 free" or "0–1,000 free, then $0.01 per unit"
    (money in the currency's own form); without a currency, bare numbers."""
    if currency:
        return price_sentence(
            charge_model, properties if isinstance(properties, dict) else {}, currency
        )
    unit = f" {currency}" if currency else ""
    props = properties if isinstance(properties, dict) else {}
    free = props.get("free_units")
    free_text = f", first {plain(free)} free" if free not in (None, "", 0, "0") else ""
    if charge_model == "standard":
        return f"{plain(props.get('amount'))}{unit} per unit{free_text}"
    if charge_model == "package":
        size = plain(props.get("package_size"))
        return f"{plain(props.get('amount'))}{unit} per package of {size} units{free_text}"
    if charge_model == "percentage":
        text = f"{plain(props.get('rate'))}%"
        if props.get("fixed_amount") not in (None, "", 0, "0"):
            text += f" + {plain(props.get('fixed_amount'))}{unit} per transaction"
        if props.get("free_units_per_events"):
            text += f", first {plain(props['free_units_per_events'])} transactions free"
        if props.get("free_units_per_total_aggregation"):
            text += f", first {plain(props['free_units_per_total_aggregation'])} free"
        low, high = props.get("per_transaction_min_amount"), props.get("per_transaction_max_amount")
        if low not in (None, ""):
            text += f", at least {plain(low)}{unit}"
        if high not in (None, ""):
            text += f", at most {plain(high)}{unit}"
        return text + " per transaction" if (low or high) else text
    tiers = tiers_of(charge_model, props)
    if not tiers:
        return "no tiers"
    parts = []
    for tier in tiers:
        part = f"{tier_range(tier)}: {plain(tier.get('per_unit_amount'))}"
        if tier.get("flat_amount") not in (None, "", 0, "0"):
            part += f" + {plain(tier['flat_amount'])} flat"
        parts.append(part)
    kind = "all units at the tier reached" if charge_model == "volume" else "each tier"
    return f"{'; '.join(parts)} ({kind})"


def example_units(charge_model: str, properties: dict[str, Any]) -> Decimal:
    """Units for the example: half-way into the second tier when tiers are set (so the example
    crosses a boundary), else 1,500."""
    tiers = tiers_of(charge_model, properties)
    if len(tiers) >= 2:
        try:
            first_end = Decimal(str(tiers[0].get("to_value")))
        except InvalidOperation:
            return DEFAULT_EXAMPLE_UNITS
        if first_end > 0:
            return (first_end * Decimal("1.5")).to_integral_value()
    return DEFAULT_EXAMPLE_UNITS


def example_text(
    charge_model: str, properties: dict[str, Any], currency: str, units: Decimal | None = None
) -> str:
    """The example sentence, or why there is none."""
    try:
        return example_sentence(
            charge_model,  # type: ignore[arg-type]
            properties,
            units if units is not None else example_units(charge_model, properties),
            currency,
        )
    except PricingError as error:
        return f"No example: {error.message}"


def tiers_table(charge_model: str, properties: dict[str, Any], currency: str = "") -> SafeString:
    tiers = tiers_of(charge_model, properties)

    def per_unit(value: Any) -> str:
        return unit_price_text(value, currency) if currency else plain(value)

    def flat(value: Any) -> str:
        return money_text(value or 0, currency) if currency else plain(value or 0)

    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                index,
                plain(tier.get("from_value")),
                "∞" if tier.get("to_value") in (None, "") else plain(tier.get("to_value")),
                per_unit(tier.get("per_unit_amount")),
                flat(tier.get("flat_amount")),
            )
            for index, tier in enumerate(tiers, start=1)
        ),
    )
    return format_html(
        '<table class="plans-tiers"><thead><tr><th>Tier</th><th>From</th><th>To</th>'
        "<th>Per unit</th><th>Flat amount</th></tr></thead><tbody>{}</tbody></table>",
        rows,
    )


def _price_html(charge_model: str, properties: dict[str, Any], currency: str) -> SafeString:
    if not properties:
        return format_html('<span class="quiet">{}</span>', "none: not billed")
    keys = grouping_keys(properties)
    grouped = format_html("<p>Priced separately per {}.</p>", " × ".join(keys)) if keys else ""
    if charge_model in TIERED_MODELS:
        return format_html("{}{}", tiers_table(charge_model, properties, currency), grouped)
    return format_html("{}{}", charge_summary(charge_model, properties, currency), grouped)


def charge_summary_line(charge: Charge, currency: str) -> str:
    """The changelist's line: the default price, then its groups, filters and proration."""
    filters = charge.filters or []
    text = (
        charge_summary(charge.charge_model, charge.properties, currency)
        if charge.properties or not filters
        else "no default price"
    )
    keys = grouping_keys(charge.properties)
    if keys:
        text += f", per {' × '.join(keys)}"
    if filters:
        text += f"; {len(filters)} filter{'s' if len(filters) != 1 else ''}"
    return text + ("; prorated by day" if charge.prorated else "")


def charge_properties_html(charge: Charge, currency: str) -> SafeString:
    """The charge's price as a person reads it: the default (a tier table or a summary line,
    with its pricing groups), then one row per filter, most specific first as events try them,
    and whether units are prorated."""
    default = _price_html(charge.charge_model, charge.properties, currency)
    filters = [f for f in charge.filters or [] if isinstance(f, dict)]
    prorated = (
        format_html("<p>{}</p>", "Prorated: each unit bills for the days it was active.")
        if charge.prorated
        else ""
    )
    if not filters:
        return format_html("{}{}", default, prorated)
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                position + 1,
                filter_label(filters[index].get("values") or {}),
                filters[index].get("invoice_display_name") or "—",
                _price_html(charge.charge_model, filters[index].get("properties") or {}, currency),
            )
            for position, index in enumerate(filters_by_specificity(filters))
        ),
    )
    return format_html(
        "<p><strong>Events matching no filter:</strong></p>{}"
        '<table class="plans-charge-filters"><thead><tr><th>Tried</th><th>Filter</th>'
        "<th>Invoice name</th><th>Price</th></tr></thead><tbody>{}</tbody></table>{}",
        default,
        rows,
        prorated,
    )
