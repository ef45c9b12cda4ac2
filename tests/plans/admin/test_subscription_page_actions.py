from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from billing_site.core.models import AuditLogEntry
from plans.models import PlanVersion, Subscription
from plans.services import plan_version_create_draft_from, plan_version_publish
from tests.plans.factories import make_customer, make_subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscription(starter_v1) -> Subscription:
    start = timezone.now() - timedelta(days=3)
    return make_subscription(
        starter_v1, make_customer("acme"), external_id="sub-acme", started_at=start
    )


@pytest.fixture
def starter_v2(starter_v1) -> PlanVersion:
    return plan_version_publish(version=plan_version_create_draft_from(version=starter_v1))


def _url(name: str, subscription: Subscription) -> str:
    return reverse(f"admin:plans_subscription_{name}", args=[subscription.pk])


def test_a_live_subscription_page_offers_cancel_and_move(admin_client, subscription):
    # when
    page = admin_client.get(_url("change", subscription)).content.decode()
    # then
    for name in ("cancel_at_period_end", "cancel_now", "migrate"):
        assert f'href="{_url(name, subscription)}"' in page
    assert _url("revoke_cancellation", subscription) not in page


def test_cancel_now_from_the_page_asks_then_ends_it_and_audits(admin_client, subscription):
    url = _url("cancel_now", subscription)
    # when: the button is followed
    confirm = admin_client.get(url)
    # then: the question, nothing changed yet
    assert "They end NOW" in confirm.content.decode()
    assert Subscription.objects.get(pk=subscription.pk).status == Subscription.Status.ACTIVE
    # when: confirmed with a reason
    done = admin_client.post(url, {"post": "yes", "reason": "customer left"})
    # then
    assert done.status_code == 302
    assert done.url == _url("change", subscription)
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.CANCELED
    assert subscription.ended_at is not None
    entry = AuditLogEntry.objects.get(action="subscription.canceled")
    assert (entry.object_id, entry.reason) == (str(subscription.pk), "customer left")
    # and the ended subscription's page offers nothing more
    page = admin_client.get(done.url).content.decode()
    assert _url("cancel_now", subscription) not in page
    assert _url("migrate", subscription) not in page


def test_cancel_at_period_end_then_revoke_from_the_page(admin_client, subscription):
    # when
    admin_client.post(_url("cancel_at_period_end", subscription), {"post": "yes", "reason": "r"})
    # then
    subscription.refresh_from_db()
    assert (subscription.status, subscription.cancel_at_period_end) == ("active", True)
    page = admin_client.get(_url("change", subscription)).content.decode()
    assert _url("revoke_cancellation", subscription) in page
    assert _url("cancel_at_period_end", subscription) not in page
    # when
    admin_client.post(_url("revoke_cancellation", subscription), {"post": "yes", "reason": "r"})
    # then
    subscription.refresh_from_db()
    assert subscription.cancel_at_period_end is False


def test_cancelling_an_ended_subscription_from_its_url_changes_nothing(admin_client, subscription):
    # given
    admin_client.post(_url("cancel_now", subscription), {"post": "yes", "reason": "gone"})
    # when
    again = admin_client.post(
        _url("cancel_at_period_end", subscription), {"post": "yes", "reason": "again"}, follow=True
    )
    # then
    assert "nothing to change" in again.content.decode()
    assert (
        AuditLogEntry.objects.filter(object_id=str(subscription.pk))
        .filter(action__startswith="subscription.cancel")
        .count()
        == 1
    )


def test_move_from_the_page_previews_then_moves_only_this_subscription(
    admin_client, subscription, starter_v1, starter_v2
):
    # given: another subscription on the same version stays put
    other = make_subscription(starter_v1, make_customer("globex"), external_id="sub-globex")
    url = _url("migrate", subscription)
    choice = {"to_version": str(starter_v2.pk), "when": "immediately"}
    # when
    choose = admin_client.get(url)
    preview = admin_client.post(url, {**choice, "migrate_step": "preview"})
    done = admin_client.post(url, {**choice, "migrate_step": "confirm", "reason": "upgrade"})
    # then
    assert "1 selected subscription(s)" in choose.content.decode()
    assert "<td>sub-acme</td>" in preview.content.decode()
    assert "sub-globex" not in preview.content.decode()
    assert done.status_code == 302
    assert done.url == _url("change", subscription)
    subscription.refresh_from_db()
    other.refresh_from_db()
    assert subscription.version_id == starter_v2.pk
    assert other.version_id == starter_v1.pk
