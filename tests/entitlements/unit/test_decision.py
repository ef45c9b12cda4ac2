from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entitlements.decision import LIFETIME_END, Allowance, decide, limit_window

D = Decimal


def M(**kwargs) -> Allowance:  # noqa: N802
    return Allowance(kind="metered", enabled=True, **kwargs)


@pytest.mark.parametrize(
    ("_case", "allowance", "quantity", "allowed", "reason", "remaining"),
    [
        ("boolean on", Allowance(kind="boolean", enabled=True), D(1), True, "ok", None),
        (
            "boolean off",
            Allowance(kind="boolean", enabled=False),
            D(1),
            False,
            "feature_disabled",
            D(0),
        ),
        ("static", Allowance(kind="static", enabled=True), D(1), True, "ok", None),
        (
            "unlimited",
            M(limit=None, used=D(10**9)),
            D(5),
            True,
            "ok",
            None,
        ),
        (
            "within limit",
            M(limit=D(10), used=D(7)),
            D(3),
            True,
            "ok",
            D(3),
        ),
        (
            "hard cap",
            M(limit=D(10), used=D(8)),
            D(3),
            False,
            "limit_reached",
            D(2),
        ),
        (
            "soft cap",
            M(limit=D(10), cap="soft", used=D(8)),
            D(3),
            True,
            "overage",
            D(2),
        ),
        (
            "credits cover",
            M(limit=D(10), used=D(10), credits=D(5)),
            D(5),
            True,
            "ok",
            D(5),
        ),
        (
            "credits short",
            M(limit=D(10), used=D(10), credits=D(2)),
            D(3),
            False,
            "insufficient_credits",
            D(2),
        ),
        (
            "credits only",
            M(limit=D(0), credits=D(0)),
            D(1),
            False,
            "insufficient_credits",
            D(0),
        ),
        (
            "held counts",
            M(limit=D(10), used=D(5), held=D(4)),
            D(2),
            False,
            "limit_reached",
            D(1),
        ),
    ],
)
def test_decide_answers_each_kind_and_cap(_case, allowance, quantity, allowed, reason, remaining):
    # when
    verdict = decide(allowance, quantity)
    # then
    assert (verdict.allowed, verdict.reason, verdict.remaining) == (allowed, reason, remaining)


def test_uncredited_usage_beyond_the_limit_takes_credits_first():
    # given: 12 used on a limit of 10, none paid by credits yet (ingested directly), 5 credits
    allowance = M(limit=D(10), used=D(12), credits=D(5))
    # when
    verdict = decide(allowance, D(3))
    # then: 2 of the credits are owed already, 3 are left
    assert (verdict.allowed, verdict.from_credits, verdict.remaining) == (True, D(3), D(3))


units = st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False, allow_infinity=False)


@given(
    limit=units,
    used=units,
    credited_part=st.decimals(min_value=0, max_value=1, places=2),
    credits=units,
    held=units,
    quantity=st.decimals(min_value="0.01", max_value=10**6, places=2),
    soft=st.booleans(),
)
def test_split_always_sums_to_the_quantity_and_hard_caps_never_overspend(
    limit, used, credited_part, credits, held, quantity, soft
):
    # given
    credited = (used * credited_part).quantize(D("0.01"))
    allowance = Allowance(
        kind="metered",
        enabled=True,
        limit=limit,
        cap="soft" if soft else "hard",
        used=used,
        credited=credited,
        credits=credits,
        held=held,
    )
    # when
    verdict = decide(allowance, quantity)
    # then
    assert verdict.remaining is not None
    assert verdict.remaining >= 0
    if verdict.allowed:
        assert verdict.from_included + verdict.from_credits + verdict.overage == quantity
        assert verdict.from_credits <= verdict.credits_available <= credits
        assert verdict.overage == 0 or soft
    if not soft:
        assert verdict.allowed == (quantity <= verdict.remaining)


PERIOD = (datetime(2026, 11, 4, 9, 30, tzinfo=UTC), datetime(2026, 11, 11, 9, 30, tzinfo=UTC))


@pytest.mark.parametrize(
    ("_case", "reset", "at", "window"),
    [
        ("billing", "billing", datetime(2026, 11, 6, tzinfo=UTC), PERIOD),
        (
            "a day inside a weekly plan",
            "day",
            datetime(2026, 11, 6, 15, tzinfo=UTC),
            (datetime(2026, 11, 6, tzinfo=UTC), datetime(2026, 11, 7, tzinfo=UTC)),
        ),
        (
            "the first day is cut at the period's start",
            "day",
            datetime(2026, 11, 4, 10, tzinfo=UTC),
            (PERIOD[0], datetime(2026, 11, 5, tzinfo=UTC)),
        ),
        (
            "a month is cut at the period's end",
            "month",
            datetime(2026, 11, 10, tzinfo=UTC),
            (datetime(2026, 11, 1, tzinfo=UTC).replace(day=4, hour=9, minute=30), PERIOD[1]),
        ),
        (
            "never resets",
            "never",
            datetime(2026, 11, 10, tzinfo=UTC),
            (datetime(2026, 1, 1, tzinfo=UTC), LIFETIME_END),
        ),
    ],
)
def test_limit_window_by_reset_period(_case, reset, at, window):
    # when
    result = limit_window(
        reset_period=reset,
        at=at,
        period_start=PERIOD[0],
        period_end=PERIOD[1],
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    # then
    assert result == window
