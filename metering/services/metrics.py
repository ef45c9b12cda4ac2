"""Writes of billable metrics.

Every field that changes what a metric counts (code, aggregation, property, filters, weights,
rounding, recurrence, the weighted-sum mode) is frozen once anything uses the metric: events,
charges or features. Changing one would silently change what customers are billed for periods
already measured; instead, a new metric is made from this one. A metric can be archived (offered
to no new charge, still billed where used); only a metric nothing uses can be deleted. Metering
sees its own events; apps above it (the catalog) register a usage check and a usage description
here instead of being imported, keeping the layers one-way (DESIGN.md).
"""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from billing_site.core.audit import audit_log_write
from metering.ingest.selectors import metric_in_use_by_events
from metering.models import BillableMetric, Rounding, WeightedSumMode

# A check answers what uses the metric ("events", "charges"), or None when nothing does.
MetricUsageCheck = Callable[[BillableMetric], str | None]

FROZEN_ONCE_USED = (
    "code",
    "aggregation",
    "field_name",
    "filters",
    "weights",
    "rounding",
    "rounding_precision",
    "recurring",
    "weighted_sum_mode",
)
# Describes, for people, where a higher app uses the metric ("Plan pro v2 (published): charge").
MetricUsageDescription = Callable[[BillableMetric], list[str]]
EDITABLE_FIELDS = (
    "code",
    "name",
    "description",
    "aggregation",
    "field_name",
    "filters",
    "weights",
    "recurring",
    "weighted_sum_mode",
    "rounding",
    "rounding_precision",
)


def _events_use(metric: BillableMetric) -> str | None:
    return "events" if metric_in_use_by_events(metric=metric) else None


_usage_checks: list[MetricUsageCheck] = [_events_use]


def metric_usage_check_register(check: MetricUsageCheck) -> None:
    """Let a higher app (the catalog) freeze metrics its rows use; call it from AppConfig.ready."""
    if check not in _usage_checks:
        _usage_checks.append(check)


_usage_descriptions: list[MetricUsageDescription] = []


def metric_usage_description_register(describe: MetricUsageDescription) -> None:
    """Let a higher app list where it uses a metric (shown on the metric's admin page)."""
    if describe not in _usage_descriptions:
        _usage_descriptions.append(describe)


def metric_usage_described(*, metric: BillableMetric) -> list[str]:
    """Where the catalog uses the metric, one line per plan version or feature."""
    return [line for describe in _usage_descriptions for line in describe(metric)]


def metric_used_by(*, metric: BillableMetric) -> list[str]:
    """What uses the metric, e.g. ["events", "charges"]; empty when it may still change freely."""
    return [use for check in _usage_checks if (use := check(metric))]


def _snapshot(metric: BillableMetric) -> dict[str, Any]:
    return {name: getattr(metric, name) for name in EDITABLE_FIELDS}


@transaction.atomic
def billable_metric_create(
    *,
    code: str,
    name: str,
    aggregation: str,
    field_name: str = "",
    description: str = "",
    filters: dict[str, list[Any]] | None = None,
    weights: dict[str, Any] | None = None,
    recurring: bool = False,
    weighted_sum_mode: str = WeightedSumMode.LEVEL,
    rounding: str = Rounding.NONE,
    rounding_precision: int = 0,
    actor: Any = None,
) -> BillableMetric:
    metric = BillableMetric(
        code=code,
        name=name,
        description=description,
        aggregation=aggregation,
        field_name=field_name,
        filters=filters or {},
        weights=weights,
        recurring=recurring,
        weighted_sum_mode=weighted_sum_mode,
        rounding=rounding,
        rounding_precision=rounding_precision,
    )
    metric.full_clean()
    metric.save()
    audit_log_write(
        actor=actor, action="billable_metric.created", obj=metric, changes=_snapshot(metric)
    )
    return metric


@transaction.atomic
def billable_metric_update(
    *, metric: BillableMetric, actor: Any = None, reason: str = "", **data: Any
) -> BillableMetric:
    """Change a metric's fields; code, aggregation and property only while nothing uses it."""
    unknown = sorted(set(data) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in unknown})
    metric = BillableMetric.objects.select_for_update().get(pk=metric.pk)
    before = _snapshot(metric)
    changed = [name for name, value in data.items() if before[name] != value]
    if not changed:
        return metric
    frozen = [name for name in changed if name in FROZEN_ONCE_USED]
    if frozen and (uses := metric_used_by(metric=metric)):
        message = (
            f"Cannot change once {' and '.join(uses)} use this metric: it would change what was "
            "already measured and billed. Make a new metric from this one instead."
        )
        raise ValidationError({name: [message] for name in frozen})
    for name in changed:
        setattr(metric, name, data[name])
    metric.full_clean()
    metric.save()
    audit_log_write(
        actor=actor,
        action="billable_metric.updated",
        obj=metric,
        changes={name: [before[name], getattr(metric, name)] for name in changed},
        reason=reason,
    )
    return metric


@transaction.atomic
def billable_metric_archive(*, metric: BillableMetric, actor: Any = None) -> BillableMetric:
    """Offer the metric to no new charge; charges and features that use it go on billing it."""
    metric = BillableMetric.objects.select_for_update().get(pk=metric.pk)
    if metric.archived_at is None:
        metric.archived_at = timezone.now()
        metric.save(update_fields=["archived_at", "updated_at"])
        audit_log_write(actor=actor, action="billable_metric.archived", obj=metric)
    return metric


@transaction.atomic
def billable_metric_unarchive(*, metric: BillableMetric, actor: Any = None) -> BillableMetric:
    metric = BillableMetric.objects.select_for_update().get(pk=metric.pk)
    if metric.archived_at is not None:
        metric.archived_at = None
        metric.save(update_fields=["archived_at", "updated_at"])
        audit_log_write(actor=actor, action="billable_metric.unarchived", obj=metric)
    return metric


@transaction.atomic
def billable_metric_delete(*, metric: BillableMetric, actor: Any = None) -> None:
    """Delete a metric nothing uses (no events, charges or features); else archive it."""
    metric = BillableMetric.objects.select_for_update().get(pk=metric.pk)
    if uses := metric_used_by(metric=metric):
        raise ValidationError(
            f"{' and '.join(uses).capitalize()} use {metric.code}: archive it instead."
        )
    audit_log_write(
        actor=actor, action="billable_metric.deleted", obj=metric, changes=_snapshot(metric)
    )
    metric.delete()
