"""The per-minute event counts behind the dashboard's events-per-minute chart.

Ingest keeps them (metering/ingest/sql.py adds each batch's stored events to its minute); this
module only prunes what the chart no longer shows."""

from datetime import datetime, timedelta

from django.db import transaction

from metering.models import EventActivityCount

ACTIVITY_KEEP = timedelta(days=2)


@transaction.atomic
def event_activity_prune(*, now: datetime) -> int:
    """Delete the counts of minutes older than `ACTIVITY_KEEP`; returns the rows deleted.
    Safe to run twice or concurrently (a delete by age)."""
    deleted, _ = EventActivityCount.objects.filter(minute__lt=now - ACTIVITY_KEEP).delete()
    return deleted
