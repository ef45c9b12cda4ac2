"""Import a plan as Lago's API returns it (``GET /api/v1/plans/{code}``) as a new draft version.

Lago's charge properties use the same schemas as ours, so standard, package, graduated, volume
and percentage charges map one to one (amounts stay decimal strings), with their ``filters``
(``values``, ``properties``, ``invoice_display_name``), pricing groups (``grouped_by`` or
``pricing_group_keys`` in the properties), ``prorated`` and ``pay_in_advance``. A charge's
embedded ``billable_metric.recurring`` must match the metric here. What cannot be mapped — an
unknown metric, another charge model, a proration Lago would refuse too, a pay-in-advance charge
of a kind not billed in advance here (see ``plans.charge_filters.advance_errors``) — is reported
and skipped, and the rest is imported; nothing is published.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from billing_site.core.exceptions import ApplicationError
from billing_site.core.money import CURRENCY_VALIDATOR, from_minor_units
from metering.models import BillableMetric
from plans.charge_filters import charge_errors
from plans.models import Plan
from plans.pricing import CHARGE_MODELS
from plans.services.catalog import charge_create, plan_create, plan_version_create_draft

LAGO_INTERVALS = {"weekly": "week", "monthly": "month", "quarterly": "quarter", "yearly": "year"}
# Lago leaves these empty when a charge is not grouped: dropped rather than kept as [].
_GROUPING_KEYS = ("grouped_by", "pricing_group_keys")


@dataclass
class LagoImportReport:
    plan_code: str
    dry_run: bool
    plan_created: bool = False
    version_number: int | None = None
    imported: list[str] = field(default_factory=list)  # metric codes
    lines: list[str] = field(default_factory=list)  # one human-readable line per finding
    skipped: list[str] = field(default_factory=list)  # what was not imported, and why

    def note(self, message: str) -> None:
        self.lines.append(message)

    def skip(self, message: str) -> None:
        self.skipped.append(message)
        self.lines.append(f"SKIPPED {message}")


def _plan_payload(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    plan = payload.get("plan", payload) if isinstance(payload, Mapping) else None
    if not isinstance(plan, Mapping):
        raise ApplicationError('Expected a Lago plan: {"plan": {"code": ..., ...}}.')
    return plan


def _metric_code(charge: Mapping[str, Any]) -> str | None:
    code = charge.get("billable_metric_code")
    metric = charge.get("billable_metric")
    if not code and isinstance(metric, Mapping):
        code = metric.get("code")
    return code if isinstance(code, str) and code else None


def _minor(value: Any, currency: str, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApplicationError(f"{what} must be an integer number of cents; got {value!r}.")
    return from_minor_units(value, currency)


def lago_plan_import(
    *, payload: Mapping[str, Any], dry_run: bool = False, actor: Any = None
) -> LagoImportReport:
    """Create the plan if missing and a new draft version with the charges that map.

    Raises ``ApplicationError`` when the plan itself cannot be imported (no code, unknown
    interval or currency, a draft already open); with ``dry_run`` everything is checked and
    reported but nothing is kept.
    """
    with transaction.atomic():
        report = _import(_plan_payload(payload), dry_run=dry_run, actor=actor)
        if dry_run:
            transaction.set_rollback(True)
    return report


def _import(lago: Mapping[str, Any], *, dry_run: bool, actor: Any) -> LagoImportReport:
    code = lago.get("code")
    if not isinstance(code, str) or not code:
        raise ApplicationError("The Lago plan has no code.", fields={"plan.code": ["Required."]})
    report = LagoImportReport(plan_code=code, dry_run=dry_run)
    interval = LAGO_INTERVALS.get(lago.get("interval", ""))
    if interval is None:
        raise ApplicationError(
            f"Lago interval {lago.get('interval')!r} has no equivalent; expected one of "
            f"{', '.join(LAGO_INTERVALS)}.",
            fields={"plan.interval": ["Unsupported interval."]},
        )
    currency = lago.get("amount_currency") or ""
    try:
        CURRENCY_VALIDATOR(currency)
    except ValidationError:
        raise ApplicationError(
            f"Lago amount_currency {currency!r} is not an ISO 4217 code.",
            fields={"plan.amount_currency": ["Use a three-letter currency code."]},
        ) from None
    base_fee = _minor(lago.get("amount_cents", 0), currency, "amount_cents")
    trial_period = lago.get("trial_period") or 0
    if isinstance(trial_period, bool) or not isinstance(trial_period, int | float | str):
        raise ApplicationError(
            f"Lago trial_period {trial_period!r} is not a number of days.",
            fields={"plan.trial_period": ["Must be a number of days."]},
        )
    try:
        trial_decimal = Decimal(str(trial_period))
        trial_days = math.ceil(trial_decimal)
    except (ArithmeticError, ValueError):
        raise ApplicationError(
            f"Lago trial_period {trial_period!r} is not a number of days.",
            fields={"plan.trial_period": ["Must be a number of days."]},
        ) from None
    if trial_decimal != trial_days:
        report.note(f"trial_period {trial_period} days rounded up to {trial_days} days")
    for key in ("minimum_commitment", "usage_thresholds", "taxes", "entitlements"):
        if lago.get(key):
            report.skip(f"plan {key}: not imported (no equivalent on a plan version)")
    if lago.get("bill_charges_monthly"):
        report.skip("plan bill_charges_monthly: not imported (charges bill with the base fee)")

    plan = Plan.objects.filter(code=code).first()
    if plan is None:
        plan = plan_create(
            code=code,
            name=lago.get("name") or code,
            description=lago.get("description") or "",
            actor=actor,
        )
        report.plan_created = True
        report.note(f"plan {code}: created")
    else:
        report.note(f"plan {code}: exists, adding a draft version")
    version = plan_version_create_draft(
        plan=plan,
        currency=currency,
        interval=interval,
        base_fee=base_fee,
        base_fee_in_advance=bool(lago.get("pay_in_advance")),
        trial_days=trial_days,
        actor=actor,
    )
    report.version_number = version.number
    report.note(
        f"version {version.number}: draft, {currency} {base_fee} per {interval}, "
        f"{'in advance' if version.base_fee_in_advance else 'in arrears'}, "
        f"{trial_days} trial days"
    )

    charges = lago.get("charges") or []
    for index, raw in enumerate(charges):
        _import_charge(raw, index, version=version, currency=currency, report=report, actor=actor)
    return report


def _import_charge(
    raw: Any, index: int, *, version: Any, currency: str, report: LagoImportReport, actor: Any
) -> None:
    if not isinstance(raw, Mapping):
        report.skip(f"charge {index + 1}: not an object")
        return
    metric_code = _metric_code(raw)
    label = f"charge {index + 1} ({metric_code or 'no metric'}, {raw.get('charge_model')})"
    if metric_code is None:
        report.skip(f"{label}: no billable_metric_code")
        return
    metric = BillableMetric.objects.filter(code=metric_code).first()
    if metric is None:
        report.skip(f"{label}: unknown billable metric {metric_code!r}; create it first")
        return
    model = raw.get("charge_model")
    if model not in CHARGE_MODELS:
        report.skip(f"{label}: charge model {model!r} is not supported")
        return
    embedded = raw.get("billable_metric")
    if isinstance(embedded, Mapping) and "recurring" in embedded:
        if bool(embedded["recurring"]) != metric.recurring:
            said = "recurring" if embedded["recurring"] else "not recurring"
            report.skip(
                f"{label}: the metric is {said} in Lago but not here; align {metric_code!r} first"
            )
            return
    properties = _without_empty_grouping(raw.get("properties") or {})
    filters = []
    for position, lago_filter in enumerate(raw.get("filters") or []):
        if not isinstance(lago_filter, Mapping):
            report.skip(f"{label}: filter {position + 1} is not an object")
            return
        filters.append(
            {
                "values": lago_filter.get("values"),
                "properties": _without_empty_grouping(lago_filter.get("properties") or {}),
                "invoice_display_name": lago_filter.get("invoice_display_name") or "",
            }
        )
    prorated = bool(raw.get("prorated"))
    pay_in_advance = bool(raw.get("pay_in_advance"))
    problems = charge_errors(
        charge_model=model,
        properties=properties,
        filters=filters,
        prorated=prorated,
        metric_aggregation=metric.aggregation,
        metric_recurring=metric.recurring,
        pay_in_advance=pay_in_advance,
    )
    if problems:
        field_name, messages = next(iter(problems.items()))
        if field_name.startswith("properties."):
            field_name = f"invalid properties: {field_name.removeprefix('properties.')}"
        report.skip(f"{label}: {field_name}: {messages[0]}")
        return
    min_cents = raw.get("min_amount_cents") or 0
    try:
        min_amount = _minor(min_cents, currency, "min_amount_cents") if min_cents else None
    except ApplicationError as error:
        report.skip(f"{label}: {error.message}")
        return
    if version.charges.filter(metric=metric).exists():
        report.skip(f"{label}: a second charge for {metric_code!r}; one charge per metric")
        return
    charge_create(
        version=version,
        metric=metric,
        charge_model=model,
        properties=properties,
        filters=filters,
        prorated=prorated,
        pay_in_advance=pay_in_advance,
        invoice_display_name=raw.get("invoice_display_name") or "",
        min_amount=min_amount,
        actor=actor,
    )
    report.imported.append(metric_code)
    extras = [f"{len(filters)} filter(s)"] if filters else []
    extras += ["prorated"] if prorated else []
    extras += ["paid in advance"] if pay_in_advance else []
    report.note(f"{label}: imported{' with ' + ', '.join(extras) if extras else ''}")


def _without_empty_grouping(raw: Any) -> Any:
    if not isinstance(raw, Mapping):
        return raw
    return {k: v for k, v in raw.items() if not (k in _GROUPING_KEYS and not v)}
