"""What a form shows an operator: related-object icons only for what they may do, and every
error of a submission at once."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

pytestmark = pytest.mark.django_db

ADD_SUBSCRIPTION = reverse("admin:plans_subscription_add")


@pytest.fixture
def subscriber(client, django_user_model):
    """A staff member who may add subscriptions but not customers."""
    user = django_user_model.objects.create_user("sub", "s@example.com", "pw", is_staff=True)
    codenames = ["add_subscription", "view_subscription", "view_customer"]
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return client


def test_related_add_icons_show_only_with_the_permission(admin_client, subscriber):
    # when
    as_admin = admin_client.get(ADD_SUBSCRIPTION).content.decode()
    as_subscriber = subscriber.get(ADD_SUBSCRIPTION).content.decode()
    # then: the superuser may add a customer from the form, the subscriber may not
    assert 'id="add_id_customer"' in as_admin
    assert 'id="add_id_customer"' not in as_subscriber
    assert 'id="change_id_customer"' not in as_subscriber


def test_a_form_reports_all_its_errors_at_once(admin_client):
    # when: nothing chosen and a date that is not one
    response = admin_client.post(
        ADD_SUBSCRIPTION,
        {
            "customer": "",
            "version": "",
            "started_at_0": "31/31/2026",
            "started_at_1": "00:00",
            "billing_time": "",
        },
    )
    # then: every field's error on the same page, under its label
    errors = response.context["adminform"].form.errors
    assert set(errors) >= {"customer", "version", "started_at", "billing_time"}
    assert "Please correct the errors below." in response.content.decode()
