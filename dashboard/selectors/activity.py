"""Events received per minute over the last 24 hours, from the counts ingest keeps
(metering.models.EventActivityCount: at most 1,440 minutes x a few shards, summed in SQL by
dashboard/sql.py), never the events."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from dashboard.sql import event_counts_per_minute

MINUTES = 24 * 60


@dataclass(frozen=True)
class EventActivity:
    first_minute: datetime
    per_minute: list[int]  # MINUTES values, oldest first; the last is the minute in progress

    @property
    def total(self) -> int:
        return sum(self.per_minute)

    @property
    def peak(self) -> int:
        return max(self.per_minute, default=0)

    @property
    def average(self) -> int:
        """Events per minute over the 24 hours, rounded down."""
        return self.total // MINUTES


def events_per_minute(*, at: datetime) -> EventActivity:
    """The events stored in each of the 1,440 minutes up to and including the one of `at`."""
    last = at.replace(second=0, microsecond=0)
    first = last - timedelta(minutes=MINUTES - 1)
    return EventActivity(
        first_minute=first, per_minute=event_counts_per_minute(first=first, last=last)
    )
