from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from billing_site.core.models import AuditLogEntry
from plans.models import PlanVersion, Subscription
from plans.services import (
    plan_version_create_draft_from,
    plan_version_publish,
    subscription_override_create,
)
from tests.plans.factories import make_customer, make_subscription

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:plans_subscription_changelist")
ADD_URL = reverse("admin:plans_subscription_add")


@pytest.fixture
def starter_v2(starter_v1) -> PlanVersion:
    """Starter v2: without the api_calls charge, to show a charge with no counterpart."""
    draft = plan_version_create_draft_from(version=starter_v1)
    draft.charges.all().delete()
    return plan_version_publish(version=draft)


@pytest.fixture
def on_v1(starter_v1) -> list[Subscription]:
    start = timezone.now() - timedelta(days=3)
    return [
        make_subscription(
            starter_v1, make_customer(name), external_id=f"sub-{name}", started_at=start
        )
        for name in ("acme", "globex", "initech")
    ]


def _action(name: str, subscriptions: list[Subscription], **extra: str) -> dict:
    return {"action": name, ACTION_CHECKBOX_NAME: [str(s.pk) for s in subscriptions], **extra}


def test_subscription_is_created_through_the_service(admin_client, starter_v1):
    # given
    customer = make_customer("hooli")
    data = {
        "customer": str(customer.pk),
        "version": str(starter_v1.pk),
        "external_id": "",
        "started_at_0": "2026-01-31",
        "started_at_1": "00:00:00",
        "billing_time": "anniversary",
        "trial_days": "",
    }
    # when
    response = admin_client.post(ADD_URL, data)
    # then
    assert response.status_code == 302
    subscription = Subscription.objects.get(customer=customer)
    assert subscription.external_id.startswith("sub_")
    assert subscription.version == starter_v1
    assert subscription.current_period_start == datetime(2026, 1, 31, tzinfo=UTC)
    assert subscription.current_period_end == datetime(2026, 2, 28, tzinfo=UTC)
    assert AuditLogEntry.objects.get(action="subscription.created").actor_label == "admin"


def test_only_published_versions_can_be_chosen(admin_client, starter_draft):
    # given
    customer = make_customer("hooli")
    data = {
        "customer": str(customer.pk),
        "version": str(starter_draft.pk),
        "started_at_0": "2026-01-31",
        "started_at_1": "00:00:00",
        "billing_time": "anniversary",
    }
    # when
    response = admin_client.post(ADD_URL, data)
    # then
    assert "Select a valid choice" in response.content.decode()
    assert not Subscription.objects.exists()


def test_migration_shows_who_moves_and_lost_charges_then_schedules(admin_client, on_v1, starter_v2):
    # given
    chosen = on_v1[:2]
    # when: step 1, then 2, then confirmed
    choose = admin_client.post(LIST_URL, _action("migrate_selected", chosen))
    preview = admin_client.post(
        LIST_URL,
        _action(
            "migrate_selected",
            chosen,
            to_version=str(starter_v2.pk),
            when="next_period",
            migrate_step="preview",
        ),
    )
    scheduled_before_confirming = Subscription.objects.filter(
        scheduled_version__isnull=False
    ).count()
    done = admin_client.post(
        LIST_URL,
        _action(
            "migrate_selected",
            chosen,
            to_version=str(starter_v2.pk),
            when="next_period",
            migrate_step="confirm",
            reason="v2 drops the call charge",
        ),
        follow=True,
    )
    # then
    assert (
        f'<option value="{starter_v2.pk}" selected>starter v2 (published)</option>'
        in choose.content.decode()
    )
    moves = preview.content.decode()
    assert "sub-acme" in moves
    assert "sub-globex" in moves
    assert "sub-initech" not in moves
    assert '<ul id="migrate-lost"><li>api_calls (graduated)</li></ul>' in moves
    assert scheduled_before_confirming == 0
    assert (
        "2 subscription(s) will move to starter v2 (published) at their next period."
        in done.content.decode()
    )
    for subscription in chosen:
        subscription.refresh_from_db()
        assert subscription.scheduled_version == starter_v2
        assert subscription.scheduled_change_at == subscription.current_period_end
    audit = AuditLogEntry.objects.filter(action="subscription.migration_scheduled")
    assert (
        sorted(audit.values_list("actor_label", "reason"))
        == [("admin", "v2 drops the call charge")] * 2
    )
    assert (
        LogEntry.objects.filter(change_message__startswith="Migration to starter v2").count() == 2
    )
    assert Subscription.objects.get(external_id="sub-initech").scheduled_version is None


def test_migrating_subscriptions_of_different_versions_is_refused(admin_client, on_v1, starter_v2):
    # given
    elsewhere = make_subscription(starter_v2, make_customer("hooli"), external_id="sub-hooli")
    # when
    response = admin_client.post(
        LIST_URL, _action("migrate_selected", [on_v1[0], elsewhere]), follow=True
    )
    # then
    assert "Select subscriptions of one plan version" in response.content.decode()
    assert not Subscription.objects.filter(scheduled_version__isnull=False).exists()


def test_version_page_moves_all_its_live_subscriptions_now(
    admin_client, on_v1, starter_v1, starter_v2
):
    # given
    url = reverse("admin:plans_planversion_migrate", args=[starter_v1.pk])
    # when
    admin_client.post(
        url, {"to_version": str(starter_v2.pk), "when": "immediately", "migrate_step": "confirm"}
    )
    # then
    assert Subscription.objects.filter(version=starter_v2).count() == 3


def test_cancel_at_period_end_after_confirmation(admin_client, on_v1):
    # given
    action = _action("cancel_at_period_end_selected", on_v1[:1])
    # when
    confirmation = admin_client.post(LIST_URL, action)
    admin_client.post(LIST_URL, action | {"post": "yes", "reason": "customer asked"})
    # then
    assert (
        "keep running, and are billed, until the end of their current period"
        in confirmation.content.decode()
    )
    subscription = Subscription.objects.get(pk=on_v1[0].pk)
    assert (subscription.status, subscription.cancel_at_period_end) == ("active", True)


def test_cancel_now_ends_the_subscription(admin_client, on_v1):
    # when
    admin_client.post(
        LIST_URL, _action("cancel_now_selected", on_v1[:1], post="yes", reason="fraud")
    )
    # then
    subscription = Subscription.objects.get(pk=on_v1[0].pk)
    assert subscription.status == Subscription.Status.CANCELED
    assert subscription.ended_at is not None


def test_ending_an_override_asks_why_then_ends_it(admin_client, on_v1):
    # given
    subscription = on_v1[0]
    override = subscription_override_create(
        subscription=subscription,
        kind="base_fee",
        value={"amount": "39"},
        reason="negotiated",
        valid_from=timezone.now() - timedelta(days=1),
    )
    url = reverse("admin:plans_subscription_override_end", args=[subscription.pk, override.pk])
    # when
    page = admin_client.get(url)
    admin_client.post(url, {"reason": "contract ended"})
    # then
    assert "End override" in page.content.decode()
    override.refresh_from_db()
    assert override.valid_until is not None
    assert override.valid_until <= timezone.now()


def test_subscription_page_shows_the_price_in_force(admin_client, on_v1):
    # given
    subscription = on_v1[0]
    override = subscription_override_create(
        subscription=subscription, kind="base_fee", value={"amount": "15"}, reason="promo"
    )
    # when
    response = admin_client.get(reverse("admin:plans_subscription_change", args=[subscription.pk]))
    # then
    assert f"Base fee $15.00 / month (override #{override.pk})" in response.content.decode()
    assert subscription.version.base_fee == Decimal("19.0000")


def test_changelist_queries_do_not_grow_with_rows(
    admin_client, on_v1, django_assert_max_num_queries
):
    # given
    for index in range(10):
        make_subscription(
            on_v1[0].version, make_customer(f"c{index}"), external_id=f"extra-{index}"
        )
    # when
    with django_assert_max_num_queries(10):
        response = admin_client.get(LIST_URL)
    # then
    assert response.context["cl"].result_count == 13


def test_version_page_link_lists_that_versions_subscriptions(admin_client, on_v1, starter_v2):
    # given
    make_subscription(starter_v2, make_customer("hooli"), external_id="sub-hooli")
    # when
    response = admin_client.get(LIST_URL, {"version__id__exact": str(on_v1[0].version_id)})
    # then
    listed = sorted(s.external_id for s in response.context["cl"].result_list)
    assert listed == ["sub-acme", "sub-globex", "sub-initech"]
