from celery import shared_task


@shared_task(name="entitlements.holds_expire")
def holds_expire_task() -> int:
    """Close holds past their time to live; safe to run twice (they stopped counting already)."""
    from entitlements.services import holds_expire

    return holds_expire()


@shared_task(name="entitlements.counters_refresh")
def usage_counters_refresh_task() -> int:
    """Recompute counters made stale by directly ingested events and fire the alerts they
    cross; safe to run twice (alerts fire once per window)."""
    from entitlements.services import usage_counters_refresh_stale

    return usage_counters_refresh_stale()
