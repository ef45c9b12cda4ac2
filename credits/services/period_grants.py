"""The credits owed when many subscriptions enter a new period at once (the batch billing path):
the same grants as ``credit_grants_for_subscription_ensure``, read for the whole batch first so
that subscriptions without any credit allowance cost nothing per subscription."""

from collections.abc import Sequence
from datetime import datetime

from credits.models import CreditDefinition
from credits.services.grants import credit_grants_for_subscription_ensure
from plans.models import Subscription, SubscriptionOverride


def credit_grants_for_subscriptions_ensure(
    opened: Sequence[tuple[Subscription, datetime]],
) -> None:
    """For each (subscription, period start), grant what its allowances owe; two queries find
    the subscriptions that have any (a credit definition on their version, or a credit-allowance
    override), and only those are granted one by one."""
    if not opened:
        return
    version_ids = {subscription.version_id for subscription, _ in opened}
    subscription_ids = [subscription.pk for subscription, _ in opened]
    with_definitions = set(
        CreditDefinition.objects.filter(version_id__in=version_ids).values_list(
            "version_id", flat=True
        )
    )
    with_overrides = set(
        SubscriptionOverride.objects.filter(
            subscription_id__in=subscription_ids, kind=SubscriptionOverride.Kind.CREDIT
        ).values_list("subscription_id", flat=True)
    )
    for subscription, at in opened:
        if subscription.version_id in with_definitions or subscription.pk in with_overrides:
            credit_grants_for_subscription_ensure(subscription=subscription, at=at)
