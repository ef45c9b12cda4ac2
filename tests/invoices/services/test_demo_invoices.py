"""load_demo leaves months of invoice history and a period for beat to bill."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from invoices.models import Invoice
from invoices.services import subscriptions_due_ids
from plans.models import Subscription

pytestmark = pytest.mark.django_db


def test_demo_history_has_paid_open_and_void_invoices_and_leaves_a_period_for_beat():
    # given the demo loaded twice
    call_command("load_demo", stdout=StringIO())
    count = Invoice.objects.count()
    call_command("load_demo", stdout=StringIO())

    # then the history was made once, with each status
    assert Invoice.objects.count() == count == 11
    # and one of them is a one-off invoice of add-ons, outside any subscription
    one_off = Invoice.objects.get(kind="one_off")
    assert (one_off.customer.external_id, one_off.status, one_off.total) == (
        "acme",
        "finalized",
        Decimal("1099.00"),
    )
    assert one_off.lines.count() == 2
    assert set(Invoice.objects.values_list("status", flat=True)) == {"paid", "finalized", "void"}
    # and the history customers' last period has ended and waits for the billing task
    due = subscriptions_due_ids(now=timezone.now())
    names = set(Subscription.objects.filter(pk__in=due).values_list("external_id", flat=True))
    assert {"stark-professional", "wayne-team"} <= names
