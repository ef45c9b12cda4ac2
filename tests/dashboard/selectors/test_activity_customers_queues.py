from datetime import timedelta
from decimal import Decimal

import pytest

from dashboard.selectors import (
    customers_near_limits,
    events_per_minute,
    invoices_waiting_to_finalize,
    payments_failed,
    top_customers_by_amount,
    top_customers_by_usage,
)
from metering.services import usage_events_ingest
from tests.dashboard.factories import invoice, subscription, usage_alert, utc
from tests.plans.factories import make_feature, make_metric

pytestmark = pytest.mark.django_db

AT = utc(2026, 3, 16, 12, 0, 30)


def ingest(count: int, *, received_at, prefix: str) -> None:
    usage_events_ingest(
        events=[
            {"transaction_id": f"{prefix}-{n}", "customer_id": "acme", "code": "api-calls"}
            for n in range(count)
        ],
        received_at=received_at,
    )


def test_events_per_minute_counts_each_of_the_last_1440_minutes_from_ingest():
    # given
    make_metric("api-calls")
    ingest(3, received_at=AT, prefix="now")
    ingest(2, received_at=AT - timedelta(minutes=1, seconds=10), prefix="before")
    ingest(4, received_at=AT - timedelta(hours=23, minutes=59), prefix="oldest")
    ingest(7, received_at=AT - timedelta(hours=24), prefix="too-old")
    # when
    activity = events_per_minute(at=AT)
    # then
    assert activity.first_minute == utc(2026, 3, 15, 12, 1)
    assert len(activity.per_minute) == 1440
    assert (activity.per_minute[-1], activity.per_minute[-2], activity.per_minute[0]) == (3, 2, 4)
    assert (activity.total, activity.peak, activity.average) == (9, 4, 0)


def test_top_customers_by_amount_are_the_five_largest_per_currency():
    # given
    for n, total in enumerate(["10.00", "60.00", "30.00", "50.00", "40.00", "20.00"]):
        invoice(subscription(f"c{n}"), total, issued_at=utc(2026, 3, 2))
    invoice(
        subscription("c0"),
        "95.00",
        status="void",
        issued_at=utc(2026, 3, 3),
        period_end=utc(2026, 2, 2),
    )
    invoice(subscription("euro", currency="EUR"), "5.00", issued_at=utc(2026, 3, 2))
    # when
    top = top_customers_by_amount(at=AT)
    # then
    assert [(t.external_id, t.value) for t in top["USD"]] == [
        ("c1", Decimal("60.00")),
        ("c3", Decimal("50.00")),
        ("c4", Decimal("40.00")),
        ("c2", Decimal("30.00")),
        ("c5", Decimal("20.00")),
    ]
    assert [(t.external_id, t.value) for t in top["EUR"]] == [("euro", Decimal("5.00"))]


def test_top_customers_by_usage_count_the_events_billed_this_month():
    # given
    acme = subscription("acme", name="Acme Corp")
    globex = subscription("globex")
    invoice(acme, "12.00", issued_at=utc(2026, 3, 1), events=1200)
    invoice(acme, "1.00", issued_at=utc(2026, 3, 5), period_end=utc(2026, 2, 5), events=300)
    invoice(globex, "90.00", issued_at=utc(2026, 3, 1), events=900)
    invoice(globex, "99.00", issued_at=utc(2026, 2, 1), events=99_999)
    # when
    top = top_customers_by_usage(at=AT)
    # then
    assert [(t.label, t.value) for t in top["USD"]] == [("Acme Corp", 1500), ("globex", 900)]


def test_customers_near_their_limits_are_those_alerted_in_a_window_in_force():
    # given
    feature = make_feature("api-calls-limit", kind="metered", metric=make_metric("api-calls"))
    acme = subscription("acme")
    globex = subscription("globex")
    initech = subscription("initech")
    usage_alert(acme, feature, 80, "850", "1000")
    usage_alert(acme, feature, 100, "1010", "1000")
    usage_alert(globex, feature, 80, "900", "1000")
    usage_alert(
        initech,
        feature,
        100,
        "2000",
        "1000",
        window_start=utc(2026, 2, 1),
        window_end=utc(2026, 3, 1),
    )
    # when
    count, rows = customers_near_limits(at=AT)
    # then
    assert count == 2
    assert [(r.external_id, r.threshold, r.used, r.allowance) for r in rows] == [
        ("acme", 100, Decimal("1010"), Decimal("1000")),
        ("globex", 80, Decimal("900"), Decimal("1000")),
    ]


def test_invoices_waiting_to_finalize_count_drafts_and_those_past_their_grace_period():
    # given
    acme = subscription("acme")
    invoice(
        acme, "10.00", status="draft", issued_at=utc(2026, 3, 10), finalize_after=utc(2026, 3, 13)
    )
    invoice(
        acme,
        "5.55",
        status="draft",
        issued_at=utc(2026, 3, 15),
        period_end=utc(2026, 2, 15),
        finalize_after=utc(2026, 3, 18),
    )
    invoice(acme, "7.00", status="finalized", issued_at=utc(2026, 3, 1), period_end=utc(2026, 1, 1))
    # when
    waiting = invoices_waiting_to_finalize(at=AT)
    # then
    usd = waiting["USD"]
    assert (usd.count, usd.amount, usd.overdue) == (2, Decimal("15.55"), 1)


def test_failed_payments_are_open_invoices_whose_payment_failed():
    # given
    acme = subscription("acme")
    invoice(acme, "42.10", issued_at=utc(2026, 3, 1), payment_status="failed")
    invoice(
        acme,
        "8.00",
        status="void",
        issued_at=utc(2026, 3, 2),
        period_end=utc(2026, 2, 1),
        payment_status="failed",
    )
    invoice(
        acme,
        "9.00",
        issued_at=utc(2026, 3, 3),
        period_end=utc(2026, 1, 1),
        payment_status="succeeded",
    )
    # when
    failed = payments_failed()
    # then
    assert (failed["USD"].count, failed["USD"].amount) == (1, Decimal("42.10"))
