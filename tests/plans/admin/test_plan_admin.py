from decimal import Decimal

import pytest
from django.urls import reverse

from billing_site.core.models import AuditLogEntry
from plans.models import Feature, Plan, PlanFeature, PlanVersion
from plans.services import plan_version_create_draft_from
from tests.plans.admin.conftest import form_data
from tests.plans.factories import (
    make_customer,
    make_feature,
    make_published_plan,
    make_subscription,
)

pytestmark = pytest.mark.django_db


def test_new_plan_starts_with_a_draft_version_and_opens_it(admin_client):
    # given
    data = {
        "code": "starter",
        "name": "Starter",
        "description": "",
        "currency": "USD",
        "interval": "month",
        "base_fee": "19.00",
        "trial_days": "0",
        "versions-TOTAL_FORMS": "0",
        "versions-INITIAL_FORMS": "0",
    }
    # when
    response = admin_client.post(reverse("admin:plans_plan_add"), data)
    # then
    version = PlanVersion.objects.get(plan__code="starter")
    assert response["Location"] == reverse("admin:plans_planversion_change", args=[version.pk])
    assert (version.number, version.status, version.base_fee) == (1, "draft", Decimal("19.0000"))
    actions = AuditLogEntry.objects.order_by("pk").values_list("action", flat=True)
    assert list(actions) == ["plan.created", "plan_version.created"]


def test_renaming_a_plan_goes_through_the_service(admin_client):
    # given
    plan = make_published_plan("professional").plan
    url = reverse("admin:plans_plan_change", args=[plan.pk])
    data = form_data(admin_client.get(url), "plan_form") | {"name": "Professional (2025)"}
    # when
    response = admin_client.post(url, data)
    # then
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.code, plan.name) == ("professional", "Professional (2025)")
    assert (
        AuditLogEntry.objects.get(action="plan.updated").changes["name"]["new"]
        == "Professional (2025)"
    )


def test_plan_list_shows_latest_published_draft_and_live_subscriptions(
    admin_client, django_assert_max_num_queries
):
    # given
    professional = make_published_plan("professional")
    plan_version_create_draft_from(version=professional)
    make_published_plan("enterprise")
    for name in ("acme", "globex"):
        make_subscription(professional, make_customer(name))
    # when
    with django_assert_max_num_queries(8):
        response = admin_client.get(reverse("admin:plans_plan_changelist"))
    # then
    rows = {
        plan.code: (plan.latest_published_number, plan.draft_number is not None, plan.live_count)
        for plan in response.context["cl"].result_list
    }
    assert rows == {"enterprise": (1, False, 0), "professional": (1, True, 2)}


def test_plan_page_creates_a_new_draft_from_the_latest_version(admin_client):
    # given
    version = make_published_plan("professional")
    # when
    response = admin_client.post(reverse("admin:plans_plan_new_draft", args=[version.plan.pk]))
    # then
    draft = PlanVersion.objects.get(plan=version.plan, status="draft")
    assert response["Location"] == reverse("admin:plans_planversion_change", args=[draft.pk])
    assert draft.charges.count() == 1


def test_plans_are_never_deleted(admin_client):
    # given
    plan = make_published_plan("professional").plan
    # when
    response = admin_client.post(
        reverse("admin:plans_plan_delete", args=[plan.pk]), {"post": "yes"}
    )
    # then
    assert response.status_code == 403
    assert Plan.objects.filter(pk=plan.pk).exists()


def test_a_metered_feature_needs_its_metric(admin_client):
    # when
    response = admin_client.post(
        reverse("admin:plans_feature_add"),
        {
            "slug": "api_calls",
            "name": "API calls",
            "kind": "metered",
            "metric": "",
            "description": "",
        },
    )
    # then
    assert "A metered feature needs the metric it counts." in response.content.decode()
    assert not Feature.objects.exists()


def test_plan_features_on_a_draft_are_set_through_the_service(admin_client, starter_draft):
    # given
    sso = make_feature("sso", "boolean")
    projects = make_feature("max_projects", "static")
    url = reverse("admin:plans_planversion_change", args=[starter_draft.pk])
    data = form_data(admin_client.get(url), "planversion_form")
    data |= {
        "features-TOTAL_FORMS": "2",
        "features-0-feature": str(sso.pk),
        "features-0-enabled": "on",
        "features-0-reset_period": "billing",
        "features-0-cap": "hard",
        "features-1-feature": str(projects.pk),
        "features-1-enabled": "on",
        "features-1-value": "3",
        "features-1-reset_period": "billing",
        "features-1-cap": "hard",
    }
    # when
    response = admin_client.post(url, data)
    # then
    assert response.status_code == 302
    values = PlanFeature.objects.filter(version=starter_draft).order_by("feature__slug")
    assert [(pf.feature.slug, pf.enabled, pf.value) for pf in values] == [
        ("max_projects", True, 3),
        ("sso", True, None),
    ]
    assert AuditLogEntry.objects.filter(action="plan_feature.set", actor_label="admin").count() == 2


def test_a_static_feature_without_value_is_refused_on_the_row(admin_client, starter_draft):
    # given
    projects = make_feature("max_projects", "static")
    url = reverse("admin:plans_planversion_change", args=[starter_draft.pk])
    data = form_data(admin_client.get(url), "planversion_form")
    data |= {
        "features-TOTAL_FORMS": "1",
        "features-0-feature": str(projects.pk),
        "features-0-enabled": "on",
        "features-0-reset_period": "billing",
        "features-0-cap": "hard",
    }
    # when
    response = admin_client.post(url, data)
    # then
    assert "The static feature max_projects needs a value." in response.content.decode()
    assert not PlanFeature.objects.exists()


def test_a_feature_is_renamed_but_its_slug_and_kind_stay(admin_client):
    # given
    feature = make_feature("sso", "boolean")
    url = reverse("admin:plans_feature_change", args=[feature.pk])
    data = form_data(admin_client.get(url), "feature_form") | {"name": "Single sign-on"}
    # when
    response = admin_client.post(url, data | {"slug": "saml", "kind": "static"})
    # then
    assert response.status_code == 302
    feature.refresh_from_db()
    assert (feature.slug, feature.kind, feature.name) == ("sso", "boolean", "Single sign-on")
