"""The invoices admin: lines with their arithmetic, confirmed object actions, the printable
page, billing runs, and the running period on subscription and customer pages."""

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.urls import reverse

from billing_site.core.models import AuditLogEntry
from invoices.models import BillingRun, Invoice
from invoices.services import subscription_bill_due
from tests.invoices.factories import plan_version, send_tokens, subscribe, utc

pytestmark = pytest.mark.django_db

FEB_1 = utc(2026, 2, 1, 0, 5)


@pytest.fixture
def finance(client, django_user_model):
    user = django_user_model.objects.create_user("fiona", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="finance"))
    client.force_login(user)
    return user


@pytest.fixture
def draft():
    version = plan_version(invoice_grace_days=3)
    subscription = subscribe(version, started_at=utc(2026, 1, 1), external_id="sub-acme")
    send_tokens("acme", 12000, at=utc(2026, 1, 10))
    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)
    return invoice


def action_url(invoice: Invoice, action: str) -> str:
    return reverse("admin:invoices_invoice_object_action", args=[invoice.pk, action])


def test_changelist_filters_by_status_and_shows_money_in_the_currency_form(client, finance, draft):
    response = client.get(reverse("admin:invoices_invoice_changelist"), {"status": "draft"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "$169.00" in page
    assert f"Draft #{draft.pk}" in page
    empty = client.get(reverse("admin:invoices_invoice_changelist"), {"status": "paid"})
    assert f"Draft #{draft.pk}" not in empty.content.decode()


def test_draft_page_offers_finalize_and_shows_each_lines_arithmetic(client, finance, draft):
    page = client.get(reverse("admin:invoices_invoice_change", args=[draft.pk])).content.decode()
    assert action_url(draft, "finalize") in page
    assert action_url(draft, "void") not in page
    assert "0 – 1,000: 1,000 × 0.02 = 20" in page
    assert "$120.00" in page


def test_finalize_asks_for_confirmation_then_numbers_the_invoice(client, finance, draft):
    # when the operator opens the action: a confirmation page, nothing changed
    confirm = client.get(action_url(draft, "finalize"))
    assert confirm.status_code == 200
    assert "Yes, I’m sure" in confirm.content.decode()
    draft.refresh_from_db()
    assert draft.status == "draft"

    # and confirms
    done = client.post(action_url(draft, "finalize"), {"post": "yes", "action": "finalize"})

    # then it is finalized by that user, with the first number
    assert done.status_code == 302
    draft.refresh_from_db()
    assert (draft.status, draft.number) == ("finalized", "INV-2026-000001")
    assert draft.events.get(action="status.finalized").actor == finance


def test_void_needs_a_reason_and_is_audited(client, finance, draft):
    client.post(action_url(draft, "finalize"), {"post": "yes"})
    refused = client.post(action_url(draft, "void"), {"post": "yes", "reason": ""})
    draft.refresh_from_db()
    # then the confirmation page comes back with the error, and nothing changed
    assert (refused.status_code, draft.status) == (200, "finalized")
    assert "Give a reason." in refused.content.decode()

    client.post(action_url(draft, "void"), {"post": "yes", "reason": "Sent to the wrong entity"})

    draft.refresh_from_db()
    assert draft.status == "void"
    entry = AuditLogEntry.objects.get(action="invoice.void")
    assert (entry.actor, entry.reason) == (finance, "Sent to the wrong entity")


def test_an_action_not_allowed_from_the_status_is_refused(client, finance, draft):
    response = client.post(action_url(draft, "mark_paid"), {"post": "yes", "reason": "x"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_printable_invoice_shows_each_lines_arithmetic_and_the_total(client, finance, draft):
    page = client.get(reverse("admin:invoices_invoice_print", args=[draft.pk])).content.decode()
    assert "Draft invoice" in page
    assert "10,001 and up: 2,000 × 0.005 = 10" in page
    assert "$169.00" in page


def test_billing_runs_page_lists_counts_duration_and_errors(client, finance):
    BillingRun.objects.create(
        started_at=utc(2026, 2, 1),
        finished_at=utc(2026, 2, 1, 0, 0, 12),
        status="failed",
        subscriptions_due=3,
        batches_total=1,
        batches_done=1,
        invoices_created=2,
        errors_count=1,
        errors=[{"subscription": "sub-x", "error": "ValueError: boom"}],
    )
    page = client.get(reverse("admin:invoices_billingrun_changelist")).content.decode()
    assert "12.0 s" in page
    assert "1 of 1" in page
    run = BillingRun.objects.get()
    detail = client.get(reverse("admin:invoices_billingrun_change", args=[run.pk]))
    assert "ValueError: boom" in detail.content.decode()


def test_subscription_and_customer_pages_show_the_running_period_so_far(client, finance):
    version = plan_version()
    subscription = subscribe(version, started_at=utc(2026, 1, 1), external_id="sub-acme")
    send_tokens("acme", 2000, at=utc(2026, 1, 20))
    with time_machine.travel(utc(2026, 1, 25), tick=False):
        sub_page = client.get(reverse("admin:plans_subscription_change", args=[subscription.pk]))
        customer_page = client.get(
            reverse("admin:plans_customer_change", args=[subscription.customer.pk])
        )
    for page in (sub_page.content.decode(), customer_page.content.decode()):
        assert "Running period: amount so far" in page
        assert "$79.00" in page
