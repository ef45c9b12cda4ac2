"""What a subscription pays and gets at an instant: its version plus the overrides in force.

``pricing_for_subscription`` is the one place that combines them; invoices, entitlements and
credits read it instead of the version directly. An override is in force at ``at`` when
``valid_from <= at < valid_until`` (either end may be open). When two overrides of the same
target are in force, the one that started later wins (then the newer one).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import F, Q

from billing_site.core.exceptions import NotFoundError
from billing_site.core.money import quantize
from plans.charge_filters import filter_for_event, has_default
from plans.discounts import discounted_amount, discounted_filters, discounted_properties
from plans.models import Subscription, SubscriptionOverride
from plans.pricing import ChargeResult, price
from plans.pricing_groups import GroupResult, price_groups
from plans.selectors.catalog import metric_get, plan_get, plan_version_for_quote


@dataclass(frozen=True)
class EffectiveCharge:
    charge_id: int
    metric_id: int
    metric_code: str
    charge_model: str
    properties: Mapping[str, Any]
    invoice_display_name: str
    min_amount: Decimal | None
    position: int
    override_id: int | None = None
    filters: tuple[Mapping[str, Any], ...] = ()
    prorated: bool = False
    pay_in_advance: bool = False


@dataclass(frozen=True)
class EffectiveFeature:
    feature_id: int
    slug: str
    kind: str
    metric_id: int | None
    enabled: bool
    value: Any
    limit: Decimal | None  # None: unlimited
    reset_period: str
    cap: str
    on_plan: bool  # False when only an override grants it
    override_id: int | None = None
    alert_thresholds: tuple[int, ...] = (80, 100)


@dataclass(frozen=True)
class CreditAllowance:
    """A credit-allowance override, passed through for the credits app to interpret."""

    override_id: int
    feature_id: int | None
    feature_slug: str | None
    value: Mapping[str, Any]
    valid_from: datetime | None
    valid_until: datetime | None


@dataclass(frozen=True)
class EffectivePricing:
    subscription_id: int
    at: datetime
    version_id: int
    plan_code: str
    version_number: int
    currency: str
    interval: str
    base_fee: Decimal
    base_fee_in_advance: bool
    base_fee_override_id: int | None
    charges: tuple[EffectiveCharge, ...]
    features: tuple[EffectiveFeature, ...]
    credit_allowances: tuple[CreditAllowance, ...] = field(default=())

    def charge_for_metric(self, metric_code: str) -> EffectiveCharge | None:
        return next((c for c in self.charges if c.metric_code == metric_code), None)

    def feature(self, slug: str) -> EffectiveFeature | None:
        return next((f for f in self.features if f.slug == slug), None)


def _decimal_or_none(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def overrides_in_force(*, subscription: Subscription, at: datetime) -> list[SubscriptionOverride]:
    """The subscription's overrides valid at ``at``, earliest start first (so later ones win)."""
    return list(
        subscription.overrides.filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=at),
            Q(valid_until__isnull=True) | Q(valid_until__gt=at),
        )
        .select_related("charge", "feature")
        .order_by(F("valid_from").asc(nulls_first=True), "id")
    )


def pricing_for_subscription(*, subscription: Subscription, at: datetime) -> EffectivePricing:
    """The version in force at ``at`` (a scheduled change counts once its time has come) with
    the overrides in force at ``at`` applied."""
    version = subscription.version
    if (
        subscription.scheduled_version_id is not None
        and subscription.scheduled_change_at is not None
        and subscription.scheduled_change_at <= at
    ):
        version = subscription.scheduled_version or version

    charges: dict[int, EffectiveCharge] = {
        charge.metric_id: EffectiveCharge(
            charge_id=charge.pk,
            metric_id=charge.metric_id,
            metric_code=charge.metric.code,
            charge_model=charge.charge_model,
            properties=charge.properties,
            invoice_display_name=charge.invoice_display_name or charge.metric.name,
            min_amount=charge.min_amount,
            position=charge.position,
            filters=tuple(charge.filters or ()),
            prorated=charge.prorated,
            pay_in_advance=charge.pay_in_advance,
        )
        for charge in version.charges.select_related("metric").order_by("position", "id")
    }
    features: dict[int, EffectiveFeature] = {
        pf.feature_id: EffectiveFeature(
            feature_id=pf.feature_id,
            slug=pf.feature.slug,
            kind=pf.feature.kind,
            metric_id=pf.feature.metric_id,
            enabled=pf.enabled,
            value=pf.value,
            limit=pf.limit,
            reset_period=pf.reset_period,
            cap=pf.cap,
            on_plan=True,
            alert_thresholds=tuple(pf.alert_thresholds or ()),
        )
        for pf in version.features.select_related("feature").order_by("feature__slug")
    }
    base_fee, base_fee_override = version.base_fee, None
    credits: list[CreditAllowance] = []

    for override in overrides_in_force(subscription=subscription, at=at):
        value = override.value or {}
        if override.kind == SubscriptionOverride.Kind.BASE_FEE:
            base_fee, base_fee_override = _overridden_base_fee(version.base_fee, value), override.pk
        elif override.kind == SubscriptionOverride.Kind.CHARGE:
            _apply_charge_override(charges, override, value)
        elif override.kind == SubscriptionOverride.Kind.FEATURE:
            _apply_feature_override(features, override, value)
        else:
            credits.append(
                CreditAllowance(
                    override_id=override.pk,
                    feature_id=override.feature_id,
                    feature_slug=override.feature.slug if override.feature else None,
                    value=value,
                    valid_from=override.valid_from,
                    valid_until=override.valid_until,
                )
            )

    return EffectivePricing(
        subscription_id=subscription.pk,
        at=at,
        version_id=version.pk,
        plan_code=version.plan.code,
        version_number=version.number,
        currency=version.currency,
        interval=version.interval,
        base_fee=base_fee,
        base_fee_in_advance=version.base_fee_in_advance,
        base_fee_override_id=base_fee_override,
        charges=tuple(sorted(charges.values(), key=lambda c: (c.position, c.charge_id))),
        features=tuple(sorted(features.values(), key=lambda f: f.slug)),
        credit_allowances=tuple(credits),
    )


def _overridden_base_fee(base_fee: Decimal, value: Mapping[str, Any]) -> Decimal:
    """An override's base fee: its amount, or the version's fee less its discount."""
    if "discount_percent" in value:
        return discounted_amount(base_fee, Decimal(str(value["discount_percent"])))
    return Decimal(str(value["amount"]))


def _apply_charge_override(
    charges: dict[int, EffectiveCharge], override: SubscriptionOverride, value: Mapping[str, Any]
) -> None:
    # A charge override follows its metric, so it survives a move to another version.
    current = charges.get(override.charge.metric_id) if override.charge else None
    if current is None:
        return  # the version in force does not charge this metric
    model = value.get("charge_model", current.charge_model)
    properties = value.get("properties", current.properties)
    filters = current.filters
    if "discount_percent" in value:
        # A discount is applied to the prices, so every consumer of the pricing bills it.
        percent = Decimal(str(value["discount_percent"]))
        properties = discounted_properties(model, properties, percent)
        filters = discounted_filters(model, filters, percent)
    charges[current.metric_id] = EffectiveCharge(
        charge_id=current.charge_id,
        metric_id=current.metric_id,
        metric_code=current.metric_code,
        charge_model=model,
        properties=properties,
        invoice_display_name=current.invoice_display_name,
        min_amount=(
            _decimal_or_none(value["min_amount"]) if "min_amount" in value else current.min_amount
        ),
        position=current.position,
        override_id=override.pk,
        filters=filters,
        prorated=current.prorated,
        pay_in_advance=current.pay_in_advance,
    )


def _apply_feature_override(
    features: dict[int, EffectiveFeature], override: SubscriptionOverride, value: Mapping[str, Any]
) -> None:
    feature = override.feature
    if feature is None:
        return
    current = features.get(feature.pk) or EffectiveFeature(
        feature_id=feature.pk,
        slug=feature.slug,
        kind=feature.kind,
        metric_id=feature.metric_id,
        enabled=True,
        value=None,
        limit=None,
        reset_period="billing",
        cap="hard",
        on_plan=False,
    )
    features[feature.pk] = EffectiveFeature(
        feature_id=current.feature_id,
        slug=current.slug,
        kind=current.kind,
        metric_id=current.metric_id,
        enabled=value.get("enabled", current.enabled),
        value=value.get("value", current.value),
        limit=_decimal_or_none(value["limit"]) if "limit" in value else current.limit,
        reset_period=value.get("reset_period", current.reset_period),
        cap=value.get("cap", current.cap),
        on_plan=current.on_plan,
        override_id=override.pk,
        alert_thresholds=current.alert_thresholds,
    )


@dataclass(frozen=True)
class Quote:
    plan_code: str
    version_number: int
    currency: str
    metric_code: str
    charge_model: str
    result: ChargeResult  # all groups together: their units and amounts summed
    filter_index: int | None = None  # the charge filter whose properties priced it
    groups: tuple[GroupResult, ...] = ()

    @property
    def amount_rounded(self) -> Decimal:
        return quantize(self.result.amount, self.currency)


def pricing_quote(
    *,
    plan_code: str,
    metric_code: str,
    units: Decimal,
    version_number: int | None = None,
    event_values: Sequence[Decimal] = (),
    event_properties: Mapping[str, Any] | None = None,
    groups: Sequence[tuple[Mapping[str, Any], Decimal]] = (),
) -> Quote:
    """Price ``units`` of ``metric_code`` on a plan's latest published (or named) version.

    ``event_properties`` picks the charge filter such events go to (the most specific that
    matches; else the default properties). ``groups`` prices each group's units separately
    (pricing groups): the result then sums them and ``units`` is ignored.

    Raises ``NotFoundError`` for an unknown plan, version or metric, or a metric the version does
    not charge (or, with filters and no default, none of them matches), and ``PricingError`` for
    invalid units or event values.
    """
    plan = plan_get(code=plan_code)
    version = plan_version_for_quote(plan=plan, number=version_number)
    metric = metric_get(code=metric_code)
    charge = next((c for c in version.charges.all() if c.metric_id == metric.pk), None)
    if charge is None:
        raise NotFoundError(
            f"Version {version.number} of plan {plan_code!r} has no charge for {metric_code!r}.",
            fields={"metric": ["The plan does not charge this metric."]},
        )
    filters = charge.filters or []
    filter_index = filter_for_event(filters, event_properties or {})
    properties = charge.properties if filter_index is None else filters[filter_index]["properties"]
    if filter_index is None and filters and not has_default(charge.properties):
        raise NotFoundError(
            "No filter of the charge matches these event properties and it has no default "
            "price: such events are not billed.",
            fields={"properties": ["Matches no filter of the charge."]},
        )
    model = charge.charge_model
    priced_groups: tuple[GroupResult, ...] = ()
    if groups:
        priced_groups = price_groups(
            model,  # type: ignore[arg-type]
            properties,
            {tuple(sorted((str(k), v) for k, v in group.items())): n for group, n in groups},
        )
        results = [g.result for g in priced_groups]
        result = ChargeResult(
            amount=sum((r.amount for r in results), Decimal(0)),
            units=sum((r.units for r in results), Decimal(0)),
            breakdown=tuple(row for r in results for row in r.breakdown),
        )
    else:
        result = price(model, properties, units, event_values)  # type: ignore[arg-type]
    return Quote(
        plan_code=plan.code,
        version_number=version.number,
        currency=version.currency,
        metric_code=metric.code,
        charge_model=model,
        result=result,
        filter_index=filter_index,
        groups=priced_groups,
    )
