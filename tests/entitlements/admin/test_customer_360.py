from decimal import Decimal

import pytest
from django.urls import reverse

from billing_site.core.models import AuditLogEntry, WebhookDelivery, WebhookEndpoint
from credits.models import CreditGrant, CreditLedgerEntry
from entitlements.services import entitlement_consume
from tests.entitlements.factories import grant, plan_with_feature, subscribe

D = Decimal
pytestmark = pytest.mark.django_db


def test_the_customer_page_shows_usage_features_credits_ledger_and_alerts(admin_client):
    # given: 100 included, 95 used (alerts fired), a grant of 40 credits
    customer, _, feature = subscribe(limit=D(100))
    grant(customer, feature, "40", reason="Launch promo")
    entitlement_consume(customer=customer, feature="api-calls", quantity=D(95), transaction_id="a")
    # when
    page = admin_client.get(reverse("admin:plans_customer_change", args=[customer.pk]))
    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert "Usage this period" in html
    assert "?q=acme&amp;code=api-calls" in html  # link to the event browser
    assert "95 / 100" in html
    assert "c360-fill c360-danger" not in html  # 95 of 140 is 67%
    assert "67%" in html
    assert 'id="credit-balance">40<' in html
    assert "Launch promo" in html
    assert "reached 80%" not in html  # 95 < 80% of 140 = 112
    assert 'id="grant-credits"' in html


@pytest.mark.parametrize(("used", "level"), [("70", "ok"), ("75", "warn"), ("90", "danger")])
def test_the_bar_colours_at_75_and_90_percent(admin_client, used, level):
    # given
    customer, _, _ = subscribe(limit=D(100))
    entitlement_consume(
        customer=customer, feature="api-calls", quantity=D(used), transaction_id="a"
    )
    # when
    html = admin_client.get(reverse("admin:plans_customer_change", args=[customer.pk])).content
    # then
    assert f'c360-fill c360-{level}"'.encode() in html


def test_staff_grant_credits_through_a_form_and_a_confirmation(admin_client):
    # given
    customer, _, _ = subscribe(limit=D(0))
    url = reverse("admin:plans_customer_grant_credits", args=[customer.pk])
    data = {
        "amount": "250",
        "source": "manual",
        "priority": "10",
        "expires_at": "",
        "reason": "Goodwill after the outage",
    }
    from plans.models import Feature

    data["feature"] = str(Feature.objects.get(slug="api-calls").pk)
    # when: the form is reviewed
    review = admin_client.post(url, data)
    # then: a confirmation, nothing granted yet
    assert review.status_code == 200
    assert b"Yes, grant these credits" in review.content
    assert CreditGrant.objects.count() == 0
    # when: confirmed
    done = admin_client.post(url, data | {"confirm": "yes"})
    # then: granted, in the ledger and the audit log, back on the customer's page
    assert done.status_code == 302
    grant_row = CreditGrant.objects.get()
    assert (grant_row.amount, grant_row.priority, grant_row.expires_at) == (D(250), 10, None)
    assert grant_row.actor_label == "admin"
    assert CreditLedgerEntry.objects.get().amount == D(250)
    audit = AuditLogEntry.objects.get(action="credit_grant.created")
    assert audit.reason == "Goodwill after the outage"


def test_a_grant_without_a_reason_is_refused_on_the_form(admin_client):
    customer, _, feature = subscribe(limit=D(0))
    url = reverse("admin:plans_customer_grant_credits", args=[customer.pk])
    # when
    response = admin_client.post(
        url, {"feature": feature.pk, "amount": "5", "source": "manual", "priority": "50"}
    )
    # then
    assert response.status_code == 200
    assert b"This field is required" in response.content
    assert CreditGrant.objects.count() == 0


def test_a_soft_cap_without_a_charge_warns_on_the_version_page(admin_client):
    # given: a soft-capped feature on a metric the version does not charge
    version, _ = plan_with_feature(limit=D(10), cap="soft", metric="images", publish=False)
    version.charges.all().delete()
    # when
    page = admin_client.get(reverse("admin:plans_planversion_change", args=[version.pk]))
    # then
    assert b"Soft cap without a charge: api-calls" in page.content


def test_staff_resend_a_webhook_delivery_after_confirming(
    admin_client, django_capture_on_commit_callbacks
):
    # given
    endpoint = WebhookEndpoint.objects.create(url="http://127.0.0.1:9/x", secret="s")
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event_id="evt_1", event_type="usage.threshold_reached", payload={}
    )
    url = reverse("admin:core_webhookdelivery_changelist")
    action = {"action": "resend_selected", "_selected_action": [delivery.pk]}
    # when
    confirm = admin_client.post(url, action)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        admin_client.post(url, action | {"post": "yes"})
    # then
    assert b"Each event is sent again" in confirm.content
    assert list(WebhookDelivery.objects.order_by("id").values_list("event_id", flat=True)) == [
        "evt_1",
        "evt_1",
    ]
    assert len(callbacks) == 1
