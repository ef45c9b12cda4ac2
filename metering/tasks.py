from celery import shared_task


@shared_task(name="metering.rollups_refresh")
def metering_rollups_refresh_task() -> None:
    """Folds newly stored events into the daily usage rollups; safe to run twice or
    concurrently."""
    from metering.rollups import usage_rollups_refresh

    usage_rollups_refresh()
