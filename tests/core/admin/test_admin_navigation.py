import pytest
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.urls import reverse

from billing_site.core.admin_site import SECTIONS, section_for
from billing_site.core.forbidden import permission_denied_handler

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    def login(role: str | None = None, *, superuser: bool = False):
        if superuser:
            user = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
        else:
            user = django_user_model.objects.create_user(role, f"{role}@example.com", "pw")
            user.is_staff = True
            user.save()
            user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
        return client

    return login


def _sections(response) -> dict[str, list[str]]:
    return {
        app["name"]: [model["model"]._meta.label_lower for model in app["models"]]
        for app in response.context["app_list"]
    }


def test_index_groups_models_by_task_in_a_fixed_order(staff_client):
    # given
    client = staff_client(superuser=True)
    # when
    response = client.get(reverse("admin:index"))
    # then
    sections = _sections(response)
    order = ["Customers", "Catalog", "Usage", "Billing", "Developers", "Settings", "Internals"]
    assert list(sections) == [name for name in order if name in sections]
    assert {"Customers", "Catalog", "Usage", "Developers", "Settings"} <= set(sections)
    assert sections["Customers"][:2] == ["plans.customer", "plans.subscription"]
    assert "metering.billablemetric" in sections["Catalog"]
    assert sections["Usage"][:3] == [
        "metering.event",
        "metering.ingestrejection",
        "metering.unknowncustomer",
    ]
    assert "core.apikey" in sections["Developers"]


def test_every_registered_model_is_listed_once_for_a_superuser(staff_client):
    client = staff_client(superuser=True)
    response = client.get(reverse("admin:index"))
    listed = [label for labels in _sections(response).values() for label in labels]
    assert len(listed) == len(set(listed))
    assert "django_celery_beat.periodictask" in _sections(response)["Internals"]
    assert "metering.customeralias" in _sections(response)["Internals"]


@pytest.mark.parametrize("role", ["finance", "ops"])
def test_staff_do_not_see_internals(staff_client, role):
    # when
    response = staff_client(role).get(reverse("admin:index"))
    # then
    sections = _sections(response)
    assert "Internals" not in sections
    listed = {label for labels in sections.values() for label in labels}
    assert "metering.customeralias" not in listed
    assert "django_celery_beat.periodictask" not in listed
    assert "plans.customer" in listed


def test_models_not_named_fall_back_to_their_apps_section():
    assert section_for("invoices.somethingnew") == "billing"
    assert section_for("plans.somethingnew") == "catalog"
    assert section_for("auth.permission") == "internals"
    assert {section.slug for section in SECTIONS} >= {"customers", "billing", "developers"}


def test_a_refused_admin_page_names_the_role_that_may_open_it(staff_client):
    # given: ops may not add plans; finance may
    client = staff_client("ops")
    # when
    response = client.get(reverse("admin:plans_plan_add"))
    # then
    assert response.status_code == 403
    body = response.content.decode()
    assert "may not add <strong>plans</strong>" in body
    assert "<strong>finance</strong>" in body
    assert 'id="site-name"' in body


def test_a_page_only_superusers_may_open_says_so(staff_client):
    response = staff_client("finance").get(reverse("admin:core_apikey_add"))
    assert response.status_code == 403
    assert "<strong>ops</strong>" in response.content.decode()
    response = staff_client("ops").get(reverse("admin:django_celery_beat_periodictask_changelist"))
    assert response.status_code == 403
    assert "Only administrators (superusers)" in response.content.decode()


def test_api_403_keeps_the_error_shape():
    request = RequestFactory().get("/api/v1/anything")
    response = permission_denied_handler(request)
    assert response.status_code == 403
    assert b'"code": "forbidden"' in response.content
