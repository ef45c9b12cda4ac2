from celery import shared_task

REFILL_BATCH = 200


@shared_task(name="credits.grants_expire")
def credit_grants_expire_task() -> int:
    """Expire what is left of grants past their expiry; safe to run twice or concurrently."""
    from credits.services import credit_grants_expire

    return credit_grants_expire()


@shared_task(name="credits.refills_due")
def credit_refills_due_task() -> int:
    """Fan out: one task per batch of live subscriptions whose version defines credits."""
    from credits.selectors import subscriptions_with_credits_ids

    ids = subscriptions_with_credits_ids()
    for start in range(0, len(ids), REFILL_BATCH):
        credit_grants_ensure_task.delay(ids[start : start + REFILL_BATCH])
    return len(ids)


@shared_task(name="credits.grants_ensure")
def credit_grants_ensure_task(subscription_ids: list[int]) -> None:
    from credits.services import credit_grants_for_subscription_ensure
    from plans.models import Subscription

    for subscription in Subscription.objects.filter(pk__in=subscription_ids).select_related(
        "customer", "version__plan"
    ):
        credit_grants_for_subscription_ensure(subscription=subscription)
