"""Advancing many subscriptions to their next period at once (the batch billing path).

``subscription_period_advance`` moves one subscription, handling every case at the boundary (a
cancellation at period end, a scheduled change, an interval change). The batch path moves only
the plain case: a live subscription with no cancellation and no scheduled change pending, whose
period has ended; ``period_advance_is_plain`` says which. For those, the next period, the
status, the audit row and the listeners' work are the same as the one-by-one service's, written
in a few statements whatever the number of subscriptions.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from billing_site.core.audit import jsonable
from billing_site.core.audit_bulk import AuditRecord, audit_log_write_many
from billing_site.core.bulk_update import rows_update
from billing_site.core.exceptions import ConflictError
from billing_site.core.periods import first_period, period_containing
from plans.models import Subscription
from plans.services.subscriptions import LIVE_STATUSES, _period_listeners, _status_at

PeriodListener = Callable[[Subscription, datetime], None]
BulkPeriodListener = Callable[[Sequence[tuple[Subscription, datetime]]], None]

# A higher app that registered a period listener may also give its bulk form, called once for a
# batch of (subscription, period start) instead of once per subscription.
_bulk_forms: dict[PeriodListener, BulkPeriodListener] = {}


def subscription_period_listener_bulk_register(
    *, listener: PeriodListener, bulk: BulkPeriodListener
) -> None:
    """Give ``listener`` (registered with ``subscription_period_listener_register``) a bulk form
    doing the same work for many subscriptions at once."""
    _bulk_forms[listener] = bulk


def _periods_opened(opened: Sequence[tuple[Subscription, datetime]]) -> None:
    for listener in _period_listeners:
        bulk = _bulk_forms.get(listener)
        if bulk is not None:
            bulk(opened)
        else:
            for subscription, at in opened:
                listener(subscription, at)


def period_advance_is_plain(subscription: Subscription, *, now: datetime) -> bool:
    """Whether ``subscriptions_period_advance_many`` can move the subscription: live, its period
    ended by ``now``, no cancellation at period end, no scheduled change."""
    return (
        subscription.status in LIVE_STATUSES
        and subscription.current_period_end <= now
        and not subscription.cancel_at_period_end
        and subscription.scheduled_version_id is None
    )


def next_period(subscription: Subscription) -> tuple[datetime, datetime, bool]:
    """The period after the current one, and whether the anchor moves to the boundary (as
    ``subscription_period_advance`` computes them)."""
    boundary = subscription.current_period_end
    interval, billing_time = subscription.version.interval, subscription.billing_time
    start, end = period_containing(subscription.billing_anchor, boundary, interval, billing_time)  # type: ignore[arg-type]
    if start != boundary:
        start, end = first_period(boundary, interval, billing_time)  # type: ignore[arg-type]
        return start, end, True
    return start, end, False


# No savepoint: the batch path calls it inside its transaction, which any error aborts.
@transaction.atomic(savepoint=False)
def subscriptions_period_advance_many(
    *, subscriptions: Sequence[Subscription], now: datetime | None = None, actor: Any = None
) -> list[Subscription]:
    """Close the ended period of each (locked, plain) subscription and open the next one; one
    UPDATE, one audit INSERT, and the listeners' bulk work. ConflictError when one is not plain
    (nothing is written then)."""
    now = now or timezone.now()
    moved: list[Subscription] = []
    records: list[AuditRecord] = []
    for subscription in subscriptions:
        if not period_advance_is_plain(subscription, now=now):
            raise ConflictError(
                f"Subscription {subscription.external_id!r} cannot be advanced in bulk.",
                code="period_advance_not_plain",
            )
    for subscription in subscriptions:
        boundary = subscription.current_period_end
        changes: dict[str, Any] = {
            "closed": [jsonable(subscription.current_period_start), jsonable(boundary)]
        }
        start, end, anchor_moves = next_period(subscription)
        if anchor_moves:
            subscription.billing_anchor = boundary
            changes["billing_anchor"] = jsonable(boundary)
        subscription.current_period_start, subscription.current_period_end = start, end
        subscription.status = _status_at(subscription, max(now, start))
        subscription.updated_at = timezone.now()
        changes["opened"] = [jsonable(start), jsonable(end)]
        moved.append(subscription)
        records.append(
            AuditRecord(
                actor=actor,
                action="subscription.period_advanced",
                obj=subscription,
                changes=changes,
            )
        )
    if not moved:
        return moved
    rows_update(
        moved,
        ["current_period_start", "current_period_end", "billing_anchor", "status", "updated_at"],
    )
    audit_log_write_many(records)
    _periods_opened([(subscription, subscription.current_period_start) for subscription in moved])
    return moved
