"""Billing-period arithmetic: pure functions over aware UTC datetimes.

Periods are half-open ``[start, end)``.

- Anniversary billing: period ``n`` starts at ``anchor + n * interval``, always computed from the
  anchor (``anchor + relativedelta(months=n)``), never from the previous period's end, so a
  Jan 31 anchor gives Feb 28 (or 29), then Mar 31 — the day clamps at month ends without
  drifting. The anchor's time of day is kept.
- Calendar billing: periods start at calendar boundaries at 00:00 UTC — the 1st of the month,
  Monday for weeks, Jan/Apr/Jul/Oct 1 for quarters, Jan 1 for years. The first period runs from
  the anchor (the subscription's start) to the next boundary, so it is partial unless the anchor
  falls on a boundary.
"""

from datetime import UTC, datetime, timedelta
from typing import Literal

from dateutil.relativedelta import relativedelta

Interval = Literal["week", "month", "quarter", "year"]
BillingTime = Literal["anniversary", "calendar"]

INTERVALS: tuple[str, ...] = ("week", "month", "quarter", "year")
BILLING_TIMES: tuple[str, ...] = ("anniversary", "calendar")

_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def aware_utc(value: datetime, name: str) -> datetime:
    """`value` in UTC; a naive datetime is a programming error and raises ValueError."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {value.isoformat()}.")
    return value.astimezone(UTC)


def _check(interval: str, billing_time: str) -> None:
    if interval not in INTERVALS:
        raise ValueError(f"Unknown interval {interval!r}; expected one of {', '.join(INTERVALS)}.")
    if billing_time not in BILLING_TIMES:
        raise ValueError(
            f"Unknown billing time {billing_time!r}; expected one of {', '.join(BILLING_TIMES)}."
        )


def _step(interval: str, n: int) -> relativedelta:
    if interval == "week":
        return relativedelta(weeks=n)
    return relativedelta(months=_MONTHS[interval] * n)


def anniversary_boundary(anchor: datetime, n: int, interval: Interval) -> datetime:
    """Start of the anniversary period ``n`` (0 is the one starting at the anchor)."""
    return aware_utc(anchor, "anchor") + _step(interval, n)


def _anniversary_index(anchor: datetime, at: datetime, interval: str) -> int:
    if interval == "week":
        n = (at - anchor) // timedelta(weeks=1)
    else:
        months = (at.year - anchor.year) * 12 + (at.month - anchor.month)
        n = months // _MONTHS[interval]
    # The estimate is off by at most one either way (day clamping, time of day).
    while anchor + _step(interval, n) > at:
        n -= 1
    while anchor + _step(interval, n + 1) <= at:
        n += 1
    return n


def calendar_period_start(at: datetime, interval: Interval) -> datetime:
    """The calendar boundary at or before ``at`` (00:00 UTC)."""
    at = aware_utc(at, "at")
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    if interval == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    if interval == "year":
        return day.replace(month=1, day=1)
    raise ValueError(f"Unknown interval {interval!r}.")


def period_containing(
    anchor: datetime, at: datetime, interval: Interval, billing_time: BillingTime
) -> tuple[datetime, datetime]:
    """The period ``[start, end)`` that holds ``at`` for a subscription anchored at ``anchor``.

    ``at`` must not be before the anchor: nothing is billed before a subscription starts.
    """
    _check(interval, billing_time)
    anchor, at = aware_utc(anchor, "anchor"), aware_utc(at, "at")
    if at < anchor:
        raise ValueError(f"at ({at.isoformat()}) is before the anchor ({anchor.isoformat()}).")
    if billing_time == "anniversary":
        n = _anniversary_index(anchor, at, interval)
        return anchor + _step(interval, n), anchor + _step(interval, n + 1)
    start = calendar_period_start(at, interval)
    end = start + _step(interval, 1)
    return max(start, anchor), end


def first_period(
    anchor: datetime, interval: Interval, billing_time: BillingTime
) -> tuple[datetime, datetime]:
    """The period that starts at the anchor (partial for calendar billing off a boundary)."""
    return period_containing(anchor, anchor, interval, billing_time)


def next_period(
    start: datetime, interval: Interval, anchor: datetime, billing_time: BillingTime
) -> tuple[datetime, datetime]:
    """The period after the one that starts at ``start``, computed from the anchor."""
    _, end = period_containing(anchor, start, interval, billing_time)
    return period_containing(anchor, end, interval, billing_time)


def is_partial(start: datetime, interval: Interval, billing_time: BillingTime) -> bool:
    """True for a calendar period that does not start on a boundary (the first one)."""
    if billing_time != "calendar":
        return False
    return calendar_period_start(start, interval) != aware_utc(start, "start")
