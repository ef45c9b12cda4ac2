"""Every plan shape of the seed guides, billed for real to the cent: trial, freemium,
pay-as-you-go, hybrid base + overage, and allowance + overage with billing-visible credits."""

from datetime import datetime
from decimal import Decimal

import pytest

from credits.services import credit_definition_set
from invoices.models import InvoiceStatus
from invoices.services import subscription_bill_due
from plans.models import PlanVersion
from plans.services import plan_version_publish
from tests.invoices.factories import send_tokens, subscribe, tokens_metric, utc
from tests.plans.factories import make_feature, make_plan, make_version

pytestmark = pytest.mark.django_db


def _version(code: str, base_fee: str, model: str, properties: dict, **kwargs) -> PlanVersion:
    tokens_metric()
    return make_version(
        make_plan(code),
        base_fee=Decimal(base_fee),
        charges={"tokens": (model, properties)},
        **kwargs,
    )


def trial() -> PlanVersion:
    # Lago's trial: 1.00 a week, 7 trial days, 0.01 per call beyond 700 free calls
    version = _version(
        "trial",
        "1.00",
        "standard",
        {"amount": "0.01", "free_units": 700},
        interval="week",
        trial_days=7,
    )
    return plan_version_publish(version=version)


def freemium() -> PlanVersion:
    version = _version("free", "0", "package", {"amount": "0", "package_size": 100})
    return plan_version_publish(version=version)


def pay_as_you_go() -> PlanVersion:
    # 0.002 per 1K tokens, no base fee
    version = _version("payg", "0", "package", {"amount": "0.002", "package_size": 1000})
    return plan_version_publish(version=version)


def hybrid() -> PlanVersion:
    # 49.00 a month, 10,000 calls included, then 0.001 per call
    version = _version(
        "professional",
        "49.00",
        "graduated",
        {
            "graduated_ranges": [
                {"from_value": 0, "to_value": 10000, "per_unit_amount": "0", "flat_amount": "0"},
                {
                    "from_value": 10001,
                    "to_value": None,
                    "per_unit_amount": "0.001",
                    "flat_amount": "0",
                },
            ]
        },
    )
    return plan_version_publish(version=version)


def allowance_overage() -> PlanVersion:
    # 0.05 per call, 10,000 calls of billing-visible credits each month
    version = _version("quota", "0", "standard", {"amount": "0.05"})
    credit_definition_set(
        version=version,
        feature=make_feature("api-quota", kind="metered", metric=tokens_metric()),
        initial_amount=Decimal(10000),
        refill_amount=Decimal(10000),
        renew_on_billing=True,
        billing_visible=True,
    )
    return plan_version_publish(version=version)


MONDAY = utc(2026, 1, 5)


@pytest.mark.parametrize(
    ("_case", "make", "started", "usage", "billed_at", "expected", "total", "status"),
    [
        (
            "trial week: no base fee, 300 calls beyond the free 700",
            trial,
            MONDAY,
            1000,
            utc(2026, 1, 12, 0, 5),
            [("usage", "Tokens", Decimal("3.00"))],
            Decimal("3.00"),
            InvoiceStatus.FINALIZED,
        ),
        (
            "freemium under its free package: zero, paid without payment",
            freemium,
            utc(2026, 1, 1),
            99,
            utc(2026, 2, 1, 0, 5),
            [("usage", "Tokens", Decimal("0.00"))],
            Decimal("0.00"),
            InvoiceStatus.PAID,
        ),
        (
            "pay as you go: 1,234,567 tokens are 1,235 started packages of 1K",
            pay_as_you_go,
            utc(2026, 1, 1),
            1234567,
            utc(2026, 2, 1, 0, 5),
            [("usage", "Tokens", Decimal("2.47"))],
            Decimal("2.47"),
            InvoiceStatus.FINALIZED,
        ),
        (
            "hybrid: 49.00 and 2,345 calls over 10,000 at 0.001 (2.345 rounds half-up)",
            hybrid,
            utc(2026, 1, 1),
            12345,
            utc(2026, 2, 1, 0, 5),
            [
                ("base_fee", "professional v1 base fee", Decimal("49.00")),
                ("usage", "Tokens", Decimal("2.35")),
            ],
            Decimal("51.35"),
            InvoiceStatus.FINALIZED,
        ),
        (
            "allowance + overage: 10,250 calls, 10,000 covered by visible credits",
            allowance_overage,
            utc(2026, 1, 1),
            10250,
            utc(2026, 2, 1, 0, 5),
            [
                ("usage", "Tokens", Decimal("512.50")),
                ("credit", "Credits: 10000 units of Tokens", Decimal("-500.00")),
            ],
            Decimal("12.50"),
            InvoiceStatus.FINALIZED,
        ),
    ],
)
def test_seed_plan_shape_bills_its_first_period_to_the_cent(
    _case: str,
    make,
    started: datetime,
    usage: int,
    billed_at: datetime,
    expected: list,
    total: Decimal,
    status: str,
):
    # given a subscription to the plan and its usage in the first period
    subscription = subscribe(make(), started_at=started)
    send_tokens("acme", usage, at=started.replace(hour=12))

    # when its first period is billed
    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=billed_at)

    # then the lines, the total and the status are exact
    invoice.refresh_from_db()
    assert [(line.kind, line.description, line.amount) for line in invoice.lines.all()] == expected
    assert (invoice.total, invoice.status) == (total, status)
