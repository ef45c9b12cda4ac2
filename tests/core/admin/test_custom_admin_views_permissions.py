import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import URLPattern, URLResolver

from plans.models import SubscriptionOverride
from tests.plans.factories import make_customer, make_published_plan, make_subscription

pytestmark = pytest.mark.django_db

STANDARD = ("_changelist", "_add", "_change", "_delete", "_history", "_autocomplete")


def _patterns(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def test_every_custom_admin_view_declares_the_permission_it_needs():
    # given: the admin's URLs that are not Django's own per-model pages
    custom = {
        route: pattern
        for model_admin in admin.site._registry.values()
        for route, pattern in _patterns(model_admin.get_urls())
        if pattern.name and not pattern.name.endswith(STANDARD)
    }

    # then
    assert custom, "the catalog has custom admin pages"
    undeclared = [
        route for route, p in custom.items() if not getattr(p.callback, "required_permission", "")
    ]
    assert undeclared == []


@pytest.fixture
def ops_client(client, django_user_model):
    user = django_user_model.objects.create_user("ops", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="ops"))
    client.force_login(user)
    return client


def test_ops_cannot_end_an_override_through_the_admin_url(ops_client):
    # given: an override ops may see but, like adding one, not end
    subscription = make_subscription(make_published_plan("pro"), make_customer("acme"))
    override = SubscriptionOverride.objects.create(
        subscription=subscription, kind="base_fee", value={"amount": "1.00"}, reason="deal"
    )
    url = f"/admin/plans/subscription/{subscription.pk}/overrides/{override.pk}/end/"

    # when
    page = ops_client.get(url)
    post = ops_client.post(url, {"reason": "ops ends it"})

    # then
    assert page.status_code == 403
    assert post.status_code == 403
    override.refresh_from_db()
    assert override.valid_until is None
