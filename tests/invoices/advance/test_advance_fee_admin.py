"""The fees list in the admin: each event's fee in money, its invoice, read-only."""

import pytest
from django.urls import reverse

from invoices.advance.invoicing import fee_invoices_create
from invoices.advance.models import AdvanceFee
from invoices.advance.services import advance_fees_create
from tests.invoices.advance.builders import advance_plan, send, tokens
from tests.invoices.factories import subscribe, utc

pytestmark = pytest.mark.django_db


def test_the_fees_page_shows_each_fee_in_money_and_its_invoice(admin_client):
    # given two fees, one of them already on a fee invoice
    version = advance_plan(tokens(), "standard", {"amount": "0.0125"}, invoice_grace_days=3)
    subscribe(version, started_at=utc(2026, 1, 1))
    send("acme", "tokens", {"tokens": 100}, at=utc(2026, 1, 10))
    advance_fees_create(now=utc(2026, 1, 10, 1))
    (invoice,) = fee_invoices_create(now=utc(2026, 1, 10, 2))
    send("acme", "tokens", {"tokens": 7}, at=utc(2026, 1, 11))
    advance_fees_create(now=utc(2026, 1, 11, 1))

    # when the list and a fee's page are opened
    listing = admin_client.get(reverse("admin:invoices_advancefee_changelist"))
    fee = AdvanceFee.objects.get(invoice=invoice)
    page = admin_client.get(reverse("admin:invoices_advancefee_change", args=[fee.pk]))

    # then amounts read as money, with the invoice or "Not invoiced yet"
    html = listing.content.decode()
    assert listing.status_code == 200
    assert "$1.25" in html
    assert "$0.09" in html
    assert f"Draft #{invoice.pk}" in html
    assert "Not invoiced yet" in html
    assert page.status_code == 200
    assert "0 → 100" in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
