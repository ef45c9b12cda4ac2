from datetime import UTC, datetime, timedelta, timezone

import pytest

from billing_site.core.periods import (
    anniversary_boundary,
    calendar_period_start,
    first_period,
    is_partial,
    next_period,
    period_containing,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("_case", "anchor", "expected_starts"),
    [
        (
            "Jan 31 anchor in a non-leap year",
            utc(2025, 1, 31),
            [
                utc(2025, 1, 31),
                utc(2025, 2, 28),
                utc(2025, 3, 31),
                utc(2025, 4, 30),
                utc(2025, 5, 31),
            ],
        ),
        (
            "Jan 31 anchor in a leap year",
            utc(2024, 1, 31),
            [
                utc(2024, 1, 31),
                utc(2024, 2, 29),
                utc(2024, 3, 31),
                utc(2024, 4, 30),
                utc(2024, 5, 31),
            ],
        ),
        (
            "Jan 30 anchor clamps only in February",
            utc(2025, 1, 30),
            [
                utc(2025, 1, 30),
                utc(2025, 2, 28),
                utc(2025, 3, 30),
                utc(2025, 4, 30),
                utc(2025, 5, 30),
            ],
        ),
        (
            "mid-month anchor keeps its day",
            utc(2025, 3, 15, 9, 30),
            [
                utc(2025, 3, 15, 9, 30),
                utc(2025, 4, 15, 9, 30),
                utc(2025, 5, 15, 9, 30),
                utc(2025, 6, 15, 9, 30),
                utc(2025, 7, 15, 9, 30),
            ],
        ),
    ],
)
def test_monthly_anniversary_periods_clamp_at_month_ends_without_drifting(
    _case, anchor, expected_starts
):
    # given a monthly anniversary subscription
    # when we walk its periods with next_period
    starts = [first_period(anchor, "month", "anniversary")[0]]
    for _ in range(4):
        starts.append(next_period(starts[-1], "month", anchor, "anniversary")[0])

    # then each start is computed from the anchor, never from the previous end
    assert starts == expected_starts


def test_jan_31_anchor_period_containing_a_day_in_march_runs_feb_28_to_mar_31():
    # given a Jan 31 anchor in a non-leap year
    anchor = utc(2025, 1, 31)

    # when
    start, end = period_containing(anchor, utc(2025, 3, 10), "month", "anniversary")

    # then
    assert (start, end) == (utc(2025, 2, 28), utc(2025, 3, 31))


@pytest.mark.parametrize(
    ("_case", "at", "expected"),
    [
        ("the anchor itself", utc(2024, 1, 31), (utc(2024, 1, 31), utc(2024, 2, 29))),
        (
            "just before the first boundary",
            utc(2024, 2, 28, 23, 59),
            (utc(2024, 1, 31), utc(2024, 2, 29)),
        ),
        (
            "the boundary belongs to the next period",
            utc(2024, 2, 29),
            (utc(2024, 2, 29), utc(2024, 3, 31)),
        ),
        ("a year later", utc(2025, 2, 28, 12), (utc(2025, 2, 28), utc(2025, 3, 31))),
    ],
)
def test_period_containing_is_half_open(_case, at, expected):
    assert period_containing(utc(2024, 1, 31), at, "month", "anniversary") == expected


def test_anniversary_keeps_the_anchors_time_of_day():
    # given an anchor at 14:23
    anchor = utc(2025, 1, 31, 14, 23)

    # when the period containing Feb 28 at 14:22 is asked for
    start, end = period_containing(anchor, utc(2025, 2, 28, 14, 22), "month", "anniversary")

    # then the boundary is at 14:23, so 14:22 is still in the first period
    assert (start, end) == (anchor, utc(2025, 2, 28, 14, 23))


def test_weekly_anniversary_periods_are_seven_days_from_the_anchor():
    anchor = utc(2025, 1, 1, 10)  # a Wednesday
    assert period_containing(anchor, utc(2025, 1, 20), "week", "anniversary") == (
        utc(2025, 1, 15, 10),
        utc(2025, 1, 22, 10),
    )
    assert next_period(utc(2025, 1, 15, 10), "week", anchor, "anniversary") == (
        utc(2025, 1, 22, 10),
        utc(2025, 1, 29, 10),
    )


def test_quarterly_anniversary_clamps_each_quarter_from_the_anchor():
    anchor = utc(2024, 11, 30)
    periods = [first_period(anchor, "quarter", "anniversary")]
    for _ in range(3):
        periods.append(next_period(periods[-1][0], "quarter", anchor, "anniversary"))
    assert periods == [
        (utc(2024, 11, 30), utc(2025, 2, 28)),
        (utc(2025, 2, 28), utc(2025, 5, 30)),
        (utc(2025, 5, 30), utc(2025, 8, 30)),
        (utc(2025, 8, 30), utc(2025, 11, 30)),
    ]


def test_yearly_anniversary_from_feb_29_falls_on_feb_28_then_returns_to_feb_29():
    anchor = utc(2024, 2, 29)
    assert anniversary_boundary(anchor, 1, "year") == utc(2025, 2, 28)
    assert anniversary_boundary(anchor, 4, "year") == utc(2028, 2, 29)
    assert period_containing(anchor, utc(2027, 6, 1), "year", "anniversary") == (
        utc(2027, 2, 28),
        utc(2028, 2, 29),
    )


@pytest.mark.parametrize(
    ("_case", "interval", "anchor", "expected_first", "expected_second"),
    [
        (
            "month: partial until the 1st",
            "month",
            utc(2025, 1, 31, 15),
            (utc(2025, 1, 31, 15), utc(2025, 2, 1)),
            (utc(2025, 2, 1), utc(2025, 3, 1)),
        ),
        (
            "week: partial until Monday 00:00 UTC",
            "week",
            utc(2025, 1, 1, 10),  # Wednesday
            (utc(2025, 1, 1, 10), utc(2025, 1, 6)),
            (utc(2025, 1, 6), utc(2025, 1, 13)),
        ),
        (
            "quarter: partial until Apr 1",
            "quarter",
            utc(2025, 2, 14),
            (utc(2025, 2, 14), utc(2025, 4, 1)),
            (utc(2025, 4, 1), utc(2025, 7, 1)),
        ),
        (
            "year: partial until Jan 1",
            "year",
            utc(2024, 2, 29),
            (utc(2024, 2, 29), utc(2025, 1, 1)),
            (utc(2025, 1, 1), utc(2026, 1, 1)),
        ),
        (
            "month: an anchor on the 1st is a full period",
            "month",
            utc(2025, 2, 1),
            (utc(2025, 2, 1), utc(2025, 3, 1)),
            (utc(2025, 3, 1), utc(2025, 4, 1)),
        ),
    ],
)
def test_calendar_periods_start_partial_then_follow_calendar_boundaries(
    _case, interval, anchor, expected_first, expected_second
):
    # when
    first = first_period(anchor, interval, "calendar")
    second = next_period(first[0], interval, anchor, "calendar")

    # then
    assert first == expected_first
    assert second == expected_second


def test_calendar_february_in_a_leap_year_is_29_days():
    start, end = period_containing(utc(2023, 12, 5), utc(2024, 2, 10), "month", "calendar")
    assert (start, end) == (utc(2024, 2, 1), utc(2024, 3, 1))
    assert end - start == timedelta(days=29)


def test_anniversary_and_calendar_differ_for_the_same_start():
    anchor = utc(2025, 3, 15)
    assert first_period(anchor, "month", "anniversary") == (utc(2025, 3, 15), utc(2025, 4, 15))
    assert first_period(anchor, "month", "calendar") == (utc(2025, 3, 15), utc(2025, 4, 1))


def test_is_partial_only_for_a_calendar_period_off_a_boundary():
    assert is_partial(utc(2025, 3, 15), "month", "calendar") is True
    assert is_partial(utc(2025, 4, 1), "month", "calendar") is False
    assert is_partial(utc(2025, 3, 15), "month", "anniversary") is False


def test_offsets_are_converted_to_utc():
    # given an anchor written in UTC+2: 2025-02-01 01:00+02:00 is Jan 31 23:00 UTC
    anchor = datetime(2025, 2, 1, 1, tzinfo=timezone(timedelta(hours=2)))

    # when
    start, end = first_period(anchor, "month", "calendar")

    # then the calendar boundaries are UTC ones
    assert (start, end) == (utc(2025, 1, 31, 23), utc(2025, 2, 1))
    assert start.tzinfo == UTC


def test_calendar_period_start_of_a_sunday_is_the_monday_before():
    assert calendar_period_start(utc(2025, 1, 12, 23), "week") == utc(2025, 1, 6)


@pytest.mark.parametrize(
    ("_case", "kwargs", "message"),
    [
        ("naive anchor", {"anchor": datetime(2025, 1, 1)}, "aware"),  # noqa: DTZ001
        ("at before the anchor", {"at": utc(2024, 12, 31)}, "before the anchor"),
        ("unknown interval", {"interval": "day"}, "Unknown interval"),
        ("unknown billing time", {"billing_time": "fiscal"}, "Unknown billing time"),
    ],
)
def test_invalid_input_is_refused(_case, kwargs, message):
    arguments = {
        "anchor": utc(2025, 1, 1),
        "at": utc(2025, 2, 1),
        "interval": "month",
        "billing_time": "anniversary",
    } | kwargs
    with pytest.raises(ValueError, match=message):
        period_containing(**arguments)
