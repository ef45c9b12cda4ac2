import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from billing_site.core.models import AuditLogEntry
from metering.models import CustomerAlias
from plans.models import Customer
from tests.plans.admin.conftest import form_data
from tests.plans.factories import make_customer, make_published_plan, make_subscription

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:plans_customer_changelist")
ADD_URL = reverse("admin:plans_customer_add")


def _members(*ids: str, initial: int = 0) -> dict[str, str]:
    data = {
        "members-TOTAL_FORMS": str(len(ids)),
        "members-INITIAL_FORMS": str(initial),
        "members-MIN_NUM_FORMS": "0",
        "members-MAX_NUM_FORMS": "1000",
        "subscriptions-TOTAL_FORMS": "0",
        "subscriptions-INITIAL_FORMS": "0",
    }
    for index, member in enumerate(ids):
        data[f"members-{index}-member_id"] = member
    return data


def _new_customer(**fields: str) -> dict[str, str]:
    return {
        "external_id": "acme",
        "name": "Acme",
        "email": "ap@acme.test",
        "currency": "",
        "metadata": "{}",
        **fields,
    }


@pytest.mark.parametrize(
    ("_case", "query", "found"),
    [
        ("external id", "glob", ["globex"]),
        ("name", "Umbrella", ["umbrella"]),
        ("email", "billing@initech", ["initech"]),
    ],
)
def test_search_finds_customers_by_id_name_or_email(admin_client, _case, query, found):
    # given
    make_customer("globex", name="Globex Corporation", email="ap@globex.test")
    make_customer("umbrella", name="Umbrella Corp", email="finance@umbrella.test")
    make_customer("initech", name="Initech", email="billing@initech.test")
    # when
    response = admin_client.get(LIST_URL, {"q": query})
    # then
    assert [c.external_id for c in response.context["cl"].result_list] == found


def test_created_customer_and_members_go_through_the_services(admin_client):
    # when
    response = admin_client.post(ADD_URL, _new_customer() | _members("acme-seat-1", "acme-seat-2"))
    # then
    assert response.status_code == 302
    customer = Customer.objects.get(external_id="acme")
    assert sorted(customer.members.values_list("member_id", flat=True)) == [
        "acme-seat-1",
        "acme-seat-2",
    ]
    aliases = CustomerAlias.objects.filter(customer_id="acme").values_list("alias_id", flat=True)
    assert sorted(aliases) == ["acme", "acme-seat-1", "acme-seat-2"]
    audit = AuditLogEntry.objects.filter(actor_label="admin").order_by("pk")
    actions = list(audit.values_list("action", flat=True))
    assert actions == ["customer.created", "customer.members_set"]


def test_a_member_id_another_customer_uses_is_refused_on_the_form(admin_client):
    # given
    make_customer("globex", member_ids=["shared-seat"])
    # when
    response = admin_client.post(ADD_URL, _new_customer() | _members("shared-seat"))
    # then
    assert response.status_code == 200
    assert "Already sends events for customer &#x27;globex&#x27;." in response.content.decode()
    assert not Customer.objects.filter(external_id="acme").exists()


def test_a_service_refusal_rolls_back_and_shows_on_the_form(admin_client):
    # given: the customer's own id as its member passes the form (the owner is not known
    # on the add page) but the alias service refuses it
    # when
    response = admin_client.post(ADD_URL, _new_customer() | _members("acme"))
    # then
    assert response.status_code == 200
    assert "own id" in response.content.decode()
    assert not Customer.objects.filter(external_id="acme").exists()
    assert not AuditLogEntry.objects.filter(action="customer.created").exists()


def test_editing_members_replaces_them(admin_client):
    # given
    customer = make_customer("acme", member_ids=["seat-1", "seat-2"])
    url = reverse("admin:plans_customer_change", args=[customer.pk])
    data = form_data(admin_client.get(url), "customer_form")
    # when: seat-1 is removed and seat-3 added
    data |= {"members-0-DELETE": "on", "members-TOTAL_FORMS": "3", "members-2-member_id": "seat-3"}
    response = admin_client.post(url, data)
    # then
    assert response.status_code == 302
    assert sorted(customer.members.values_list("member_id", flat=True)) == ["seat-2", "seat-3"]
    assert not CustomerAlias.objects.filter(alias_id="seat-1").exists()


def test_archive_asks_for_confirmation_then_archives(admin_client):
    # given
    customer = make_customer("initech")
    action = {"action": "archive_selected", ACTION_CHECKBOX_NAME: [str(customer.pk)]}
    # when
    confirmation = admin_client.post(LIST_URL, action)
    customer.refresh_from_db()
    archived_before_confirming = customer.archived_at
    admin_client.post(LIST_URL, action | {"post": "yes", "reason": "churned"})
    # then
    assert "Archive customers" in confirmation.content.decode()
    assert archived_before_confirming is None
    customer.refresh_from_db()
    assert customer.archived_at is not None
    assert AuditLogEntry.objects.get(action="customer.archived").reason == "churned"


def test_a_customer_with_a_live_subscription_is_not_archived(admin_client):
    # given
    subscription = make_subscription(make_published_plan(), make_customer("acme"))
    action = {"action": "archive_selected", ACTION_CHECKBOX_NAME: [str(subscription.customer_id)]}
    # when
    response = admin_client.post(LIST_URL, action | {"post": "yes", "reason": "x"}, follow=True)
    # then
    assert "Cancel the customer" in response.content.decode()
    assert Customer.objects.get(external_id="acme").archived_at is None


def test_changelist_counts_live_subscriptions_in_bounded_queries(
    admin_client, django_assert_max_num_queries
):
    # given
    version = make_published_plan()
    for name in ("acme", "globex", "initech", "umbrella", "hooli"):
        customer = make_customer(name)
        make_subscription(version, customer, external_id=f"{name}-1")
        make_subscription(version, customer, external_id=f"{name}-2")
    # when
    with django_assert_max_num_queries(8):
        response = admin_client.get(LIST_URL)
    # then
    assert [c.live_n for c in response.context["cl"].result_list] == [2, 2, 2, 2, 2]
