"""An operator bills add-ons as a one-off invoice from the invoice list, reviews and confirms
it, finalizes it and resends its e-mail, in Chromium."""

from decimal import Decimal

import pytest

from invoices.models import Invoice, InvoiceEmail
from tests.invoices.add_on_factories import make_add_on
from tests.plans.factories import make_customer


@pytest.mark.django_db(transaction=True)
def test_operator_bills_add_ons_then_finalizes_and_resends_the_email(
    logged_in_page, live_server, screenshot
):
    page = logged_in_page
    # given a customer with an address and two add-ons
    acme = make_customer("acme", name="Acme Corp", email="ap@acme.example")
    setup = make_add_on("setup", "49.00", name="Setup")
    hour = make_add_on("support-hour", "120.00", name="Support hour")

    # when the operator fills the form from the invoice list
    page.goto(f"{live_server.url}/admin/invoices/invoice/")
    page.click("text=New one-off invoice…")
    page.select_option("#id_customer", str(acme.pk))
    page.select_option("#id_items-0-add_on", str(setup.pk))
    page.fill("#id_items-0-quantity", "2")
    page.select_option("#id_items-1-add_on", str(hour.pk))
    page.fill("#id_items-1-quantity", "1.5")
    page.fill("#id_items-1-unit_price", "80.333")
    page.fill("#id_items-1-description", "Migration help")
    page.click("input[type=submit][value='Review the invoice']")

    # then the confirmation shows each line and the total, and nothing exists yet
    preview = page.inner_text("#one-off-preview")
    assert "Setup: 2 × 49 = $98.00" in preview
    assert "Migration help: 1.5 × 80.333 = $120.50" in preview
    assert page.inner_text("#one-off-total") == "$218.50"
    assert Invoice.objects.count() == 0
    screenshot(page, "one-off-invoice-confirm")

    # when confirmed: the draft's page
    page.click("input[type=submit][value='Yes, create the invoice']")
    page.wait_for_selector(".messagelist")
    assert "$218.50" in page.inner_text(".field-total_text")
    invoice = Invoice.objects.get()
    assert (invoice.kind, invoice.total) == ("one_off", Decimal("218.50"))

    # and finalized through its confirmation
    page.click("text=Finalize invoice…")
    page.click("input[type=submit][value='Yes, I’m sure']")
    page.wait_for_selector(".messagelist")
    content = page.inner_text("#content")
    assert "INV-" in content
    assert "ap@acme.example" in content

    # and the e-mail resent through its confirmation
    page.click("text=Resend e-mail…")
    page.click("input[type=submit][value='Yes, I’m sure']")
    page.wait_for_selector(".messagelist")

    # then two sends are recorded on the invoice: the automatic one and the resend
    assert list(InvoiceEmail.objects.order_by("id").values_list("event", "resend")) == [
        ("finalized", False),
        ("finalized", True),
    ]
    recipients = page.locator(".inline-group td.field-recipient").all_inner_texts()
    assert [text.strip() for text in recipients] == ["ap@acme.example", "ap@acme.example"]
