from celery import shared_task


@shared_task(name="entitlements.holds_expire")
def holds_expire_task() -> int:
    """Close holds past their time to live; safe to run twice (they stopped counting already)."""
    from entitlements.services import holds_expire

    return holds_expire()
