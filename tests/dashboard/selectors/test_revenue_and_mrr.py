from decimal import Decimal

import pytest

from dashboard.selectors import mrr_by_month, revenue_this_month
from tests.dashboard.factories import invoice, subscription, utc

pytestmark = pytest.mark.django_db

AT = utc(2026, 3, 16)  # 15 of March's 31 days elapsed


def test_revenue_this_month_sums_invoices_issued_this_month_by_status():
    # given
    acme = subscription("acme")
    invoice(acme, "100.00", status="paid", issued_at=utc(2026, 3, 1))
    invoice(
        acme, "49.50", status="finalized", issued_at=utc(2026, 3, 2), period_end=utc(2026, 2, 1)
    )
    invoice(acme, "10.25", status="draft", issued_at=utc(2026, 3, 15), period_end=utc(2026, 1, 1))
    invoice(acme, "999.00", status="void", issued_at=utc(2026, 3, 3), period_end=utc(2025, 12, 1))
    invoice(acme, "500.00", status="paid", issued_at=utc(2026, 2, 28))
    # when
    [usd] = revenue_this_month(at=AT)
    # then
    assert (usd.currency, usd.paid, usd.finalized, usd.draft) == (
        "USD",
        Decimal("100.00"),
        Decimal("49.50"),
        Decimal("10.25"),
    )
    assert usd.invoice_counts == {"paid": 1, "finalized": 1, "draft": 1}


def test_the_projection_carries_the_amount_so_far_to_the_month_end_rounded_to_the_cent():
    # given: 159.75 in the first 15 of 31 days
    acme = subscription("acme")
    invoice(acme, "100.00", status="paid", issued_at=utc(2026, 3, 1))
    invoice(
        acme, "59.75", status="finalized", issued_at=utc(2026, 3, 2), period_end=utc(2026, 2, 1)
    )
    # when
    [usd] = revenue_this_month(at=AT)
    # then: 159.75 x 31 / 15
    assert usd.projected == Decimal("330.15")


def test_revenue_is_reported_per_currency():
    # given
    invoice(subscription("acme"), "10.00", status="paid", issued_at=utc(2026, 3, 1))
    invoice(
        subscription("globex", currency="EUR"), "20.00", status="paid", issued_at=utc(2026, 3, 1)
    )
    # when
    figures = revenue_this_month(at=AT)
    # then
    assert [(f.currency, f.paid) for f in figures] == [
        ("EUR", Decimal("20.00")),
        ("USD", Decimal("10.00")),
    ]


def test_mrr_brings_each_interval_to_a_month_and_rounds_the_month_once():
    # given: periods starting in February 2026
    feb = utc(2026, 2, 1)
    invoice(subscription("y", interval="year"), "1200.00", issued_at=AT, period_start=feb)
    invoice(subscription("q", interval="quarter"), "30.00", issued_at=AT, period_start=feb)
    invoice(subscription("m", interval="month"), "49.00", issued_at=AT, period_start=feb)
    invoice(subscription("w", interval="week"), "10.01", issued_at=AT, period_start=feb)
    invoice(subscription("v"), "500.00", status="void", issued_at=AT, period_start=utc(2026, 2, 2))
    # when
    [usd] = mrr_by_month(at=AT)
    # then: 100 + 10 + 49 + 10.01 x 52 / 12 (43.376666...) = 202.376666... -> 202.38
    assert dict(usd.months)[feb] == Decimal("202.38")


def test_mrr_covers_fourteen_months_with_the_change_over_the_month_and_the_year():
    # given
    acme = subscription("acme")
    invoice(acme, "40.00", issued_at=AT, period_start=utc(2025, 2, 1), period_end=utc(2025, 3, 1))
    invoice(acme, "45.00", issued_at=AT, period_start=utc(2026, 1, 1), period_end=utc(2026, 2, 1))
    invoice(acme, "49.00", issued_at=AT, period_start=utc(2026, 2, 1), period_end=utc(2026, 3, 1))
    invoice(acme, "99.00", issued_at=AT, period_start=utc(2025, 1, 1), period_end=utc(2025, 2, 1))
    # when
    [usd] = mrr_by_month(at=AT)
    # then: February 2025 .. March 2026, the last in progress; January 2025 is outside
    assert [month for month, _ in usd.months][0] == utc(2025, 2, 1)
    assert len(usd.months) == 14
    assert usd.latest == Decimal("49.00")
    assert usd.month_change == Decimal("4.00")
    assert usd.year_change == Decimal("9.00")
    assert sum(amount for _, amount in usd.months) == Decimal("134.00")
