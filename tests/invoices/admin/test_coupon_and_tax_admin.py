"""Coupons and tax rates in the admin: lists in words and money, a form that names the field,
"Apply coupon" on the customer's page with its confirmation, and the coupon and tax lines on the
invoice's page and printable invoice."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from billing_site.core.models import AuditLogEntry
from invoices.models import AppliedCoupon, Coupon, TaxRate
from invoices.services import subscription_bill_due
from invoices.services.coupons import coupon_apply
from tests.invoices.adjustment_factories import make_coupon, make_tax_rate
from tests.invoices.factories import plan_version, send_tokens, subscribe, utc
from tests.plans.factories import make_customer

pytestmark = pytest.mark.django_db


def _login(client, django_user_model, role: str):
    user = django_user_model.objects.create_user(f"{role}-user", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return user


@pytest.fixture
def finance(client, django_user_model):
    return _login(client, django_user_model, "finance")


def test_coupon_and_tax_rate_lists_read_in_words_and_money(client, finance):
    # given
    make_coupon("welcome", amount="20")
    make_coupon("loyal", percentage="12.5", duration="periods", periods=3)
    make_tax_rate("vat", "20", default=True)

    # when
    coupons = client.get(reverse("admin:invoices_coupon_changelist")).content.decode()
    rates = client.get(reverse("admin:invoices_taxrate_changelist")).content.decode()

    # then
    assert "$20.00 off" in coupons
    assert "Once (the balance carries over)" in coupons
    assert "12.5 % off" in coupons
    assert "3 billing periods" in coupons
    assert "20 %" in rates
    assert "Organization default" in rates


def test_a_fixed_coupon_without_an_amount_is_refused_naming_the_field(client, finance):
    # when a fixed coupon is added without its amount
    response = client.post(
        reverse("admin:invoices_coupon_add"),
        {
            "code": "broken",
            "name": "Broken",
            "kind": "fixed",
            "currency": "USD",
            "duration": "once",
        },
    )

    # then the form answers with the field's error, and nothing is saved
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["amount"] == [
        "A fixed coupon needs an amount."
    ]
    assert not Coupon.objects.exists()


def test_apply_coupon_on_the_customers_page_asks_for_confirmation_then_applies(client, finance):
    # given
    customer = make_customer("acme")
    coupon = make_coupon("welcome", amount="20")
    page = client.get(reverse("admin:plans_customer_change", args=[customer.pk])).content.decode()
    assert "No coupons." in page
    assert 'id="apply-coupon"' in page.replace("'", '"')
    url = reverse("admin:plans_customer_apply_coupon", args=[customer.pk])

    # when the form is sent, the confirmation shows the terms and nothing is applied yet
    review = client.post(url, {"coupon": coupon.pk, "amount": "25"}).content.decode()
    assert "$25.00 off, once (the balance carries over)" in review
    assert not AppliedCoupon.objects.exists()

    # when it is confirmed
    done = client.post(url, {"coupon": coupon.pk, "amount": "25", "confirm": "yes"})

    # then it is applied on the customer's own terms, audited, and listed on the page
    assert done.status_code == 302
    applied = AppliedCoupon.objects.get()
    assert (applied.amount, applied.amount_remaining) == (Decimal("25.0000"), Decimal("25.0000"))
    assert AuditLogEntry.objects.filter(action="coupon.applied").count() == 1
    page = client.get(done["Location"]).content.decode()
    assert "Applied coupon welcome ($25.00 off)" in page
    assert "$25.00 left" in page


def test_applying_a_coupon_twice_in_the_admin_shows_the_reason(client, finance):
    customer = make_customer("acme")
    coupon = make_coupon("welcome", percentage="10")
    coupon_apply(customer=customer, code="welcome")

    response = client.post(
        reverse("admin:plans_customer_apply_coupon", args=[customer.pk]),
        {"coupon": coupon.pk, "confirm": "yes"},
    )

    assert response.status_code == 200
    assert "already applied" in response.content.decode()
    assert AppliedCoupon.objects.count() == 1


def test_ops_may_not_apply_coupons(client, django_user_model):
    _login(client, django_user_model, "ops")
    customer = make_customer("acme")
    coupon = make_coupon("welcome", percentage="10")

    response = client.post(
        reverse("admin:plans_customer_apply_coupon", args=[customer.pk]),
        {"coupon": coupon.pk, "confirm": "yes"},
    )

    assert response.status_code == 403
    assert not AppliedCoupon.objects.exists()


def test_the_invoice_and_its_printable_page_show_coupon_and_tax_lines(client, finance):
    # given an invoice with 10 % off and 20 % tax
    make_tax_rate("vat", "20", default=True)
    subscription = subscribe(plan_version(), started_at=utc(2026, 1, 1))
    send_tokens("acme", 1500, at=utc(2026, 1, 10))
    make_coupon("ten", percentage="10")
    coupon_apply(customer=subscription.customer, code="ten")
    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=utc(2026, 2, 1, 0, 5))

    # when
    change = client.get(reverse("admin:invoices_invoice_change", args=[invoice.pk]))
    printed = client.get(reverse("admin:invoices_invoice_print", args=[invoice.pk]))

    # then both show the coupon, the tax per rate and the total in the currency's form
    for page in (change.content.decode(), printed.content.decode()):
        assert "Coupon Ten (ten): 10 % off" in page
        assert "-$7.40" in page
        assert "VAT (20 %)" in page
        assert "$13.32" in page
        assert "20 % of $66.60, rounded per line" in page
        assert "$79.92" in page


def test_a_tax_rate_over_100_percent_is_refused_naming_the_field(client, finance):
    response = client.post(
        reverse("admin:invoices_taxrate_add"), {"code": "odd", "name": "Odd", "percentage": "120"}
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["percentage"] == ["Ensure this value is less than or equal to 100."]
    assert not TaxRate.objects.exists()


def test_removing_a_coupon_asks_for_a_reason_then_withdraws_it_from_the_next_invoices(
    client, finance
):
    # given acme holds 10 % off
    subscription = subscribe(plan_version(charges={}), started_at=utc(2026, 1, 1))
    applied = coupon_apply(
        customer=subscription.customer, code=make_coupon("ten", percentage="10").code
    )
    url = reverse("admin:plans_customer_remove_coupon", args=[subscription.customer_id, applied.pk])

    # when the confirmation is sent without a reason, nothing changes
    refused = client.post(url, {"reason": " "})
    assert refused.status_code == 200
    applied.refresh_from_db()
    assert applied.status == "active"

    # when it is confirmed with a reason
    done = client.post(url, {"reason": "Given to the wrong customer"})

    # then it is removed, audited with the reason, and January's invoice does not take it
    assert done.status_code == 302
    applied.refresh_from_db()
    assert applied.status == "removed"
    entry = AuditLogEntry.objects.get(action="coupon.removed")
    assert entry.reason == "Given to the wrong customer"
    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=utc(2026, 2, 1, 0, 5))
    assert not invoice.lines.filter(kind="coupon").exists()
    # and removing it again is refused with the reason shown
    again = client.post(url, {"reason": "Twice"}).content.decode()
    assert "only an active coupon can be removed" in again
