"""A charge with filters or pricing groups bills one usage line per filter and per group, each
priced with its own properties, counting its own events."""

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest

from credits.services import credit_grant_create
from invoices.models import Invoice
from invoices.services import subscription_bill_due
from metering.models import Event
from metering.services import usage_events_ingest
from plans.services import charge_create, plan_version_publish
from tests.invoices.factories import subscribe, tokens_metric, utc
from tests.plans.factories import make_feature, make_plan, make_version

pytestmark = pytest.mark.django_db

JAN_1 = utc(2026, 1, 1)
FEB_1 = utc(2026, 2, 1, 0, 5)
_ids = count(1)


def send(at: datetime, tokens: int, **properties: str) -> None:
    result = usage_events_ingest(
        events=[
            {
                "transaction_id": f"fg-{next(_ids)}",
                "customer_id": "acme",
                "code": "tokens",
                "timestamp": at.isoformat(),
                "properties": {"tokens": tokens, **properties},
            }
        ],
        received_at=at + timedelta(seconds=1),
    )
    assert result.accepted == 1


def plan_with_charge(properties: dict, filters: list | None = None, **charge):
    version = make_version(make_plan("llm"), base_fee=Decimal("0"), charges={})
    charge_create(
        version=version,
        metric=tokens_metric(),
        charge_model="standard",
        properties=properties,
        filters=filters or [],
        invoice_display_name="Tokens",
        **charge,
    )
    return plan_version_publish(version=version)


def usage_lines(invoice: Invoice) -> list[tuple[str, str, Decimal, Decimal, int]]:
    return [
        (line.description, line.group_key, line.quantity, line.amount, line.event_count)
        for line in invoice.lines.filter(kind="usage")
    ]


def test_a_grouped_charge_bills_one_line_per_group_naming_it():
    # given 0.002 per token grouped by region: eu 1,000 + 500 tokens, us 2,500, one without region
    version = plan_with_charge({"amount": "0.002", "grouped_by": ["region"]})
    subscription = subscribe(version, started_at=JAN_1)
    send(utc(2026, 1, 3), 1000, region="eu")
    send(utc(2026, 1, 4), 500, region="eu")
    send(utc(2026, 1, 5), 2500, region="us")
    send(utc(2026, 1, 6), 7)

    # when January is billed
    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)

    # then one line per region, the events without one last
    assert usage_lines(invoice) == [
        ("Tokens (region: eu)", "region: eu", Decimal(1500), Decimal("3.00"), 2),
        ("Tokens (region: us)", "region: us", Decimal(2500), Decimal("5.00"), 1),
        ("Tokens (region: none)", "region: none", Decimal(7), Decimal("0.01"), 1),
    ]
    assert invoice.total == Decimal("8.01")
    eu = invoice.lines.get(group_key="region: eu")
    assert eu.breakdown["breakdown"][0]["units"] == "1500"
    # and each line's digest is over its own events' ids
    eu_ids = (
        Event.objects.filter(properties__region="eu").order_by("id").values_list("id", flat=True)
    )
    assert eu.events_digest == hashlib.md5(",".join(map(str, eu_ids)).encode()).hexdigest()
    digests = {line.events_digest for line in invoice.lines.filter(kind="usage")}
    assert len(digests) == 3


def test_a_filtered_charge_bills_each_filter_at_its_own_price_and_the_rest_at_the_default():
    # given tokens at 0.001 by default, 0.01 in eu and 0.05 for gpu in us
    version = plan_with_charge(
        {"amount": "0.001"},
        filters=[
            {"values": {"region": ["eu"]}, "properties": {"amount": "0.01"}},
            {
                "values": {"region": ["us"], "tier": ["gpu"]},
                "properties": {"amount": "0.05"},
                "invoice_display_name": "US GPU tokens",
            },
        ],
    )
    subscription = subscribe(version, started_at=JAN_1)
    send(utc(2026, 1, 3), 333, region="eu")
    send(utc(2026, 1, 4), 101, region="us", tier="gpu")
    send(utc(2026, 1, 5), 4000, region="apac")

    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)

    # then 4,000 x 0.001 = 4.00, 333 x 0.01 = 3.33, 101 x 0.05 = 5.05
    assert usage_lines(invoice) == [
        ("Tokens", "", Decimal(4000), Decimal("4.00"), 1),
        ("Tokens (region: eu)", "region: eu", Decimal(333), Decimal("3.33"), 1),
        ("US GPU tokens", "region: us · tier: gpu", Decimal(101), Decimal("5.05"), 1),
    ]
    assert invoice.total == Decimal("12.38")


def test_credits_cover_grouped_lines_in_line_order_at_each_lines_price():
    # given eu at 0.01 (a filter) and the default 0.001, and a grant of 1,000 tokens
    version = plan_with_charge(
        {"amount": "0.001"},
        filters=[{"values": {"region": ["eu"]}, "properties": {"amount": "0.01"}}],
    )
    subscription = subscribe(version, started_at=JAN_1)
    feature = make_feature("token-quota", kind="metered", metric=tokens_metric())
    credit_grant_create(
        customer=subscription.customer,
        feature=feature,
        amount=Decimal(1000),
        source="manual",
        reason="launch gift",
        effective_at=JAN_1,
    )
    send(utc(2026, 1, 3), 600)
    send(utc(2026, 1, 4), 800, region="eu")

    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)

    # then the default line's 600 tokens (0.60) are covered first, then 400 of eu's (4.00)
    assert [(line.kind, line.amount) for line in invoice.lines.all()] == [
        ("usage", Decimal("0.60")),
        ("credit", Decimal("-0.60")),
        ("usage", Decimal("8.00")),
        ("credit", Decimal("-4.00")),
    ]
    assert invoice.total == Decimal("4.00")


def test_a_grouped_charge_is_trued_up_to_its_minimum_once_over_all_its_groups():
    # given a 10.00 minimum on tokens at 0.002 grouped by region, and 8.01 of usage in all
    version = plan_with_charge(
        {"amount": "0.002", "grouped_by": ["region"]}, min_amount=Decimal("10.00")
    )
    subscription = subscribe(version, started_at=JAN_1)
    send(utc(2026, 1, 3), 1500, region="eu")
    send(utc(2026, 1, 5), 2505, region="us")

    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)

    # then one true-up of 10.00 - 8.01, named after the charge
    assert [(line.kind, line.description, line.amount) for line in invoice.lines.all()] == [
        ("usage", "Tokens (region: eu)", Decimal("3.00")),
        ("usage", "Tokens (region: us)", Decimal("5.01")),
        ("minimum", "Minimum spend true-up: Tokens", Decimal("1.99")),
    ]
    assert invoice.total == Decimal("10.00")
