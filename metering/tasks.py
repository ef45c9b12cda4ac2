from celery import shared_task


@shared_task(name="metering.rollups_refresh")
def metering_rollups_refresh_task() -> None:
    """Folds newly stored events into the daily usage rollups; safe to run twice or
    concurrently."""
    from metering.rollups import usage_rollups_refresh

    usage_rollups_refresh()


@shared_task(name="metering.activity_prune")
def metering_activity_prune_task() -> None:
    """Deletes the per-minute event counts the dashboard no longer charts; safe to run twice."""
    from django.utils import timezone

    from metering.services.activity import event_activity_prune

    event_activity_prune(now=timezone.now())
