import pytest

from invoices.models import Invoice
from invoices.services import subscription_bill_due
from tests.invoices.factories import plan_version, send_tokens, subscribe, utc


@pytest.mark.django_db(transaction=True)
def test_operator_finalizes_then_voids_a_draft_from_its_page(logged_in_page, live_server):
    page = logged_in_page
    # given a draft invoice in its grace period
    version = plan_version(invoice_grace_days=3)
    subscription = subscribe(version, started_at=utc(2026, 1, 1), external_id="sub-acme")
    send_tokens("acme", 12000, at=utc(2026, 1, 10))
    (draft,) = subscription_bill_due(subscription_id=subscription.pk, now=utc(2026, 2, 1, 0, 5))

    # when the operator opens it: its lines explain themselves
    page.goto(f"{live_server.url}/admin/invoices/invoice/{draft.pk}/change/")
    assert "0 – 1,000: 1,000 × 0.02 = 20" in page.inner_text(".inline-group")
    assert "$169.00" in page.inner_text(".field-total_text")

    # and finalizes it through the confirmation page
    page.click("text=Finalize invoice…")
    page.click("input[type=submit][value='Yes, I’m sure']")

    # then it is numbered and the page offers void, not finalize
    page.wait_for_selector(".messagelist")
    assert "INV-2026-000001" in page.inner_text("#content")
    assert page.locator("text=Finalize invoice…").count() == 0

    # when voided with a reason
    page.click("text=Void invoice…")
    page.fill("#id_reason", "Billed the wrong entity")
    page.click("input[type=submit][value='Yes, I’m sure']")
    page.wait_for_selector(".messagelist")

    # then
    draft.refresh_from_db()
    assert (draft.status, draft.number) == ("void", "INV-2026-000001")
    assert Invoice.objects.count() == 1
