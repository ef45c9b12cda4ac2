"""Usage alerts: a threshold (percent of a window's allowance, the limit plus credits) fires once
per window. The unique key (subscription, feature, threshold, window start) makes firing
idempotent under concurrency; a fired alert is sent as the ``usage.threshold_reached`` webhook."""

from decimal import Decimal

from django.db import IntegrityError, transaction

from billing_site.core.audit import jsonable
from billing_site.core.webhooks import webhook_event_emit
from entitlements.models import UsageAlert

ALERT_EVENT = "usage.threshold_reached"


def usage_alerts_evaluate(
    *,
    decision,  # EntitlementDecision after the usage was counted
    thresholds: tuple[int, ...],
) -> list[UsageAlert]:
    if decision.limit is None or decision.used is None or decision.counter is None:
        return []
    counter = decision.counter
    allowance = decision.limit + counter.credited + decision.credits
    if allowance <= 0:
        percent = Decimal(100) if decision.used > 0 else Decimal(0)
    else:
        percent = decision.used * 100 / allowance
    fired: list[UsageAlert] = []
    crossed = sorted(t for t in set(thresholds) if percent >= t)
    if not crossed:
        return fired
    already = set(
        UsageAlert.objects.filter(
            subscription_id=decision.subscription_id,
            feature_id=decision.feature_id,
            window_start=decision.period_start,
        ).values_list("threshold", flat=True)
    )
    for threshold in crossed:
        if threshold in already:
            continue
        try:
            with transaction.atomic():
                alert = UsageAlert.objects.create(
                    customer_id=decision.customer_id,
                    subscription_id=decision.subscription_id,
                    feature_id=decision.feature_id,
                    threshold=threshold,
                    window_start=decision.period_start,
                    window_end=decision.period_end,
                    used=decision.used,
                    allowance=allowance,
                )
        except IntegrityError:
            continue  # fired by a concurrent transaction
        webhook_event_emit(
            event_type=ALERT_EVENT,
            payload=jsonable(
                {
                    "customer_id": decision.external_id,
                    "subscription_id": decision.subscription_external_id,
                    "feature": decision.feature,
                    "threshold": threshold,
                    "used": decision.used,
                    "limit": decision.limit,
                    "allowance": allowance,
                    "window_start": decision.period_start,
                    "window_end": decision.period_end,
                }
            ),
        )
        fired.append(alert)
    return fired
