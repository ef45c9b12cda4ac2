"""The add-on catalog and one-off invoices in the admin: a form, a confirmation page with the
lines and total, one invoice however often it is submitted; the invoice page lists its e-mails
and resends one after a confirmation."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse

from invoices.models import Invoice, InvoiceEmail
from invoices.services import invoice_finalize
from tests.invoices.add_on_factories import make_add_on, one_off
from tests.plans.factories import make_customer

pytestmark = pytest.mark.django_db

FORM_URL = "/admin/invoices/addon/one-off-invoice/"


@pytest.fixture
def finance(client, django_user_model):
    user = django_user_model.objects.create_user("fiona", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="finance"))
    client.force_login(user)
    return user


def form_data(customer, *rows, key="form-key-1", **extra):
    data = {
        "customer": customer.pk,
        "idempotency_key": key,
        "items-TOTAL_FORMS": "3",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "50",
        **extra,
    }
    for index, (add_on, quantity, price, text) in enumerate(rows):
        data |= {
            f"items-{index}-add_on": add_on.pk,
            f"items-{index}-quantity": quantity,
            f"items-{index}-unit_price": price,
            f"items-{index}-description": text,
        }
    return data


def test_the_add_on_list_shows_prices_in_the_currency_form_and_links_the_form(client, finance):
    make_add_on("setup", "1249.5")

    page = client.get(reverse("admin:invoices_addon_changelist")).content.decode()

    assert "$1,249.50" in page
    assert FORM_URL in page
    assert FORM_URL in client.get(reverse("admin:invoices_invoice_changelist")).content.decode()


def test_review_then_confirm_creates_one_invoice_however_often_it_is_posted(client, finance):
    # given a customer and two add-ons
    acme = make_customer("acme", name="Acme Corp")
    setup = make_add_on("setup", "49.00")
    hour = make_add_on("support-hour", "120.00")
    data = form_data(acme, (setup, "2", "", ""), (hour, "1.5", "80.333", "Migration help"))

    # when the operator reviews: a confirmation page with each line and the total, nothing made
    review = client.post(FORM_URL, data)
    assert review.status_code == 200
    page = review.content.decode()
    assert "Setup: 2 × 49 = $98.00" in page
    assert "Migration help: 1.5 × 80.333 = $120.50" in page
    assert '<strong id="one-off-total">$218.50</strong>' in page
    assert Invoice.objects.count() == 0

    # and confirms, twice (a double click)
    first = client.post(FORM_URL, data | {"post": "yes"})
    second = client.post(FORM_URL, data | {"post": "yes"})

    # then one draft, and both answers lead to it
    invoice = Invoice.objects.get()
    assert (invoice.kind, invoice.status, invoice.customer, invoice.total) == (
        "one_off",
        "draft",
        acme,
        Decimal("218.50"),
    )
    change = reverse("admin:invoices_invoice_change", args=[invoice.pk])
    assert (first.status_code, first.url) == (302, change)
    assert (second.status_code, second.url) == (302, change)
    assert "Migration help" in client.get(change).content.decode()


def test_an_empty_form_is_not_created(client, finance):
    acme = make_customer("acme")

    response = client.post(FORM_URL, form_data(acme) | {"post": "yes"})

    assert response.status_code == 200
    assert "Pick at least one add-on." in response.content.decode()
    assert Invoice.objects.count() == 0


def test_a_viewer_without_the_add_permission_is_refused(client, django_user_model):
    user = django_user_model.objects.create_user("vera", password="x", is_staff=True)
    client.force_login(user)

    assert client.get(FORM_URL).status_code == 403


def test_the_invoice_page_lists_its_emails_and_resends_after_confirmation(
    client, finance, django_capture_on_commit_callbacks
):
    # given a finalized one-off invoice whose e-mail was recorded
    acme = make_customer("acme", email="ap@acme.example")
    invoice = invoice_finalize(invoice=one_off(acme, ("setup", "1")))
    change = reverse("admin:invoices_invoice_change", args=[invoice.pk])
    resend = reverse("admin:invoices_invoice_object_action", args=[invoice.pk, "resend_email"])
    page = client.get(change).content.decode()
    assert "E-mails sent to the customer" in page
    assert "ap@acme.example" in page
    assert resend in page

    # when the operator opens the action: a confirmation, nothing sent
    assert "E-mail this invoice to the customer again" in client.get(resend).content.decode()
    assert InvoiceEmail.objects.count() == 1

    # and confirms
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(resend, {"post": "yes"})

    # then a resend is recorded and its send enqueued after commit
    assert response.status_code == 302
    assert list(InvoiceEmail.objects.values_list("event", "resend", "status")) == [
        ("finalized", False, "pending"),
        ("finalized", True, "pending"),
    ]
    assert len(callbacks) == 1
    assert mail.outbox == []


def test_a_one_off_draft_offers_finalize_not_recompute_and_prints_without_a_plan(client, finance):
    invoice = one_off(make_customer("acme"), ("setup", "2"))
    page = client.get(reverse("admin:invoices_invoice_change", args=[invoice.pk])).content
    page = page.decode()

    action = "admin:invoices_invoice_object_action"
    assert reverse(action, args=[invoice.pk, "finalize"]) in page
    assert reverse(action, args=[invoice.pk, "recompute"]) not in page
    assert "one-off <strong>draft</strong>" in page
    printed = client.get(reverse("admin:invoices_invoice_print", args=[invoice.pk]))
    text = printed.content.decode()
    assert "One-off invoice of" in text
    assert "Plan:" not in text
    assert "Setup" in text
    assert "$98.00" in text


def test_the_customer_page_links_the_form_with_the_customer_chosen(client, finance):
    acme = make_customer("acme")
    link = f"{FORM_URL}?customer={acme.pk}"

    page = client.get(reverse("admin:plans_customer_change", args=[acme.pk])).content.decode()
    form = client.get(link).content.decode()

    assert link in page
    assert f'<option value="{acme.pk}" selected>' in form
