"""Two fee runs, and two grouping runs, racing: each event is billed once, each fee invoiced
once."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from invoices.advance.invoicing import fee_invoices_create
from invoices.advance.models import AdvanceFee
from invoices.advance.services import advance_fees_create
from invoices.models import Invoice, InvoiceKind
from tests.invoices.advance.builders import advance_plan, send, tokens
from tests.invoices.factories import SEED_GRADUATED, subscribe, utc

pytestmark = pytest.mark.django_db(transaction=True)


def race(work) -> list:
    """Run ``work`` in two threads at once (each on its own connection); their results."""
    results: list = []
    errors: list = []
    start = threading.Barrier(2)

    def run() -> None:
        try:
            start.wait()
            results.append(work())
        except Exception as error:  # reported below: the race must not fail
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    return results


def test_racing_fee_runs_and_grouping_runs_bill_each_event_once():
    # given graduated tokens paid in advance and 40 events for two customers
    version = advance_plan(tokens(), "graduated", SEED_GRADUATED)
    for customer in ("acme", "zeta"):
        subscribe(version, customer, started_at=utc(2026, 1, 1), external_id=f"s-{customer}")
        send(customer, "tokens", *({"tokens": 100} for _ in range(20)), at=utc(2026, 1, 10))

    # when two fee runs race, then two grouping runs race
    made = race(lambda: advance_fees_create(now=utc(2026, 1, 10, 1)))
    grouped = race(lambda: len(fee_invoices_create(now=utc(2026, 1, 10, 2))))

    # then 40 fees between them, on one invoice per customer: 2,000 tokens each, 30.00
    assert sum(made) == 40
    assert AdvanceFee.objects.count() == 40
    assert sum(grouped) == 2
    invoices = Invoice.objects.filter(kind=InvoiceKind.FEES)
    assert sorted(invoices.values_list("customer__external_id", "total")) == [
        ("acme", Decimal("30.00")),
        ("zeta", Decimal("30.00")),
    ]
    assert not AdvanceFee.objects.filter(invoice__isnull=True).exists()
