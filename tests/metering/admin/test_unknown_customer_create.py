from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from metering.models import UnknownCustomer
from plans.models import Customer

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, tzinfo=UTC)
LIST_URL = reverse("admin:metering_unknowncustomer_changelist")


@pytest.fixture
def newco() -> UnknownCustomer:
    return UnknownCustomer.objects.create(
        customer_id="newco 7&x", first_seen_at=T0, last_seen_at=T0, event_count=12500
    )


def test_an_unknown_id_becomes_a_customer_from_a_prefilled_form(admin_client, newco):
    # given: the list and the id's own page link to the customer form with the id filled in
    listed = admin_client.get(LIST_URL).content.decode()
    own_page = admin_client.get(
        reverse("admin:metering_unknowncustomer_change", args=[newco.pk])
    ).content.decode()
    add_url = f"{reverse('admin:plans_customer_add')}?external_id=newco+7%26x"
    assert f'href="{add_url.replace("&", "&amp;")}"' in listed
    assert 'id="create-customer"' in own_page
    assert ">12,500<" in listed
    # when: the form is opened
    form = admin_client.get(add_url)
    # then: prefilled
    assert form.context["adminform"].form.initial["external_id"] == "newco 7&x"
    # when: saved with a name
    admin_client.post(
        reverse("admin:plans_customer_add"),
        {
            "external_id": "newco 7&x",
            "name": "NewCo",
            "email": "",
            "currency": "",
            "metadata": "{}",
            "members-TOTAL_FORMS": "0",
            "members-INITIAL_FORMS": "0",
            "subscriptions-TOTAL_FORMS": "0",
            "subscriptions-INITIAL_FORMS": "0",
        },
    )
    # then: the customer exists and the id is no longer unknown
    assert Customer.objects.get(external_id="newco 7&x").name == "NewCo"
    assert list(admin_client.get(LIST_URL).context["cl"].result_list) == []


def test_only_those_who_may_add_customers_see_create_customer(client, django_user_model, newco):
    # given: a staff member who may look at usage but not add customers
    user = django_user_model.objects.create_user("viewer", "v@example.com", "pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_unknowncustomer"))
    client.force_login(user)
    # when
    listed = client.get(LIST_URL).content.decode()
    own_page = client.get(
        reverse("admin:metering_unknowncustomer_change", args=[newco.pk])
    ).content.decode()
    # then
    assert "Create customer…" not in listed
    assert 'id="create-customer"' not in own_page
