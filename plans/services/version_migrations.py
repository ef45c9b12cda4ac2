"""Moving subscriptions in bulk from one plan version to another."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from billing_site.core.audit import audit_log_write, jsonable
from plans.models import PlanVersion, Subscription
from plans.selectors import MigrationPreview, subscriptions_migration_preview


@transaction.atomic
def subscriptions_schedule_migration(
    *,
    from_version: PlanVersion,
    to_version: PlanVersion,
    when: str,
    subscriptions: Iterable[Subscription] | None = None,
    actor: Any = None,
    reason: str = "",
    now: datetime | None = None,
) -> MigrationPreview:
    """Move the live subscriptions of ``from_version`` (or the given ones) to ``to_version``:
    ``immediately`` switches them now (keeping their current period), ``next_period`` schedules
    the switch at each one's current period end. Returns what moved, what was skipped and the
    charges without counterpart; one audit row per moved subscription records who did it.
    """
    now = now or timezone.now()
    preview = subscriptions_migration_preview(
        from_version=from_version,
        to_version=to_version,
        when=when,
        now=now,
        subscriptions=subscriptions,
    )
    ids = [move.subscription.pk for move in preview.moves]
    locked = {
        s.pk: s for s in Subscription.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    }
    lost = [charge.metric.code for charge in preview.charges_without_counterpart]
    for move in preview.moves:
        subscription = locked[move.subscription.pk]
        if when == "immediately":
            subscription.version = to_version
            subscription.scheduled_version, subscription.scheduled_change_at = None, None
        else:
            subscription.scheduled_version = to_version
            subscription.scheduled_change_at = move.change_at
        subscription.full_clean()
        subscription.save()
        audit_log_write(
            actor=actor,
            action="subscription.migration_scheduled",
            obj=subscription,
            changes={
                "from": f"{from_version.plan.code} v{from_version.number}",
                "to": f"{to_version.plan.code} v{to_version.number}",
                "when": when,
                "change_at": jsonable(move.change_at),
                "charges_without_counterpart": lost,
            },
            reason=reason,
        )
    return preview
