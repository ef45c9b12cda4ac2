"""The calendar windows the dashboard reports on, in UTC."""

from datetime import UTC, datetime

from dateutil.relativedelta import relativedelta


def month_start(at: datetime) -> datetime:
    """The start of the UTC calendar month holding `at`."""
    at = at.astimezone(UTC)
    return datetime(at.year, at.month, 1, tzinfo=UTC)


def month_starts(*, at: datetime, count: int) -> list[datetime]:
    """The starts of the `count` calendar months ending with the one holding `at`, oldest
    first."""
    current = month_start(at)
    return [current - relativedelta(months=back) for back in range(count - 1, -1, -1)]


def next_month(start: datetime) -> datetime:
    return start + relativedelta(months=1)
