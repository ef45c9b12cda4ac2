"""The running period's draft shows the credits it would apply, without burning them."""

from decimal import Decimal

import pytest
import time_machine

from credits.models import CreditLedgerEntry
from credits.selectors import credit_balance_get
from credits.services import credit_definition_set
from plans.services import plan_version_publish
from tests.invoices.factories import send_tokens, subscribe, tokens_metric, utc
from tests.plans.factories import make_feature, make_plan, make_version

pytestmark = pytest.mark.django_db


def test_current_usage_shows_the_credits_line_and_leaves_the_balance_whole(authed_client):
    # given 10,000 tokens of visible credits a month at 0.05 a token, and 12,500 tokens so far
    feature = make_feature("token-quota", kind="metered", metric=tokens_metric())
    version = make_version(
        make_plan("allowance"),
        base_fee=Decimal("0"),
        charges={"tokens": ("standard", {"amount": "0.05"})},
    )
    credit_definition_set(
        version=version,
        feature=feature,
        initial_amount=Decimal(10000),
        refill_amount=Decimal(10000),
        renew_on_billing=True,
    )
    subscription = subscribe(plan_version_publish(version=version), started_at=utc(2026, 1, 1))
    send_tokens("acme", 12500, at=utc(2026, 1, 20))

    # when the running period is read twice on Jan 25
    with time_machine.travel(utc(2026, 1, 25), tick=False):
        first = authed_client.get("/api/v1/customers/acme/current_usage")
        second = authed_client.get("/api/v1/customers/acme/current_usage")

    # then it shows 625.00 of usage less 500.00 of credits, both times
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    (running,) = first.json()["subscriptions"]
    assert [(line["kind"], line["amount"]) for line in running["lines"]] == [
        ("usage", "625.00"),
        ("credit", "-500.00"),
    ]
    assert running["total"] == "125.00"
    # and nothing was burned: the ledger holds only the grant
    assert not CreditLedgerEntry.objects.filter(kind=CreditLedgerEntry.Kind.CONSUME).exists()
    balance = credit_balance_get(customer=subscription.customer, at=utc(2026, 1, 25))
    assert balance.total == Decimal(10000)
