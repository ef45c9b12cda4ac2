import pytest

from metering.models import CustomerAlias
from plans.models import Customer
from tests.plans.factories import make_customer, make_subscription

pytestmark = pytest.mark.django_db


def test_create_answers_201_then_200_with_the_existing_customer(authed_client):
    # when
    first = authed_client.post(
        "/api/v1/customers",
        {"external_id": "acme", "name": "Acme", "email": "ops@acme.test", "member_ids": ["seat-1"]},
        format="json",
    )
    again = authed_client.post(
        "/api/v1/customers", {"external_id": "acme", "name": "Changed"}, format="json"
    )

    # then
    assert first.status_code == 201
    assert first.json()["member_ids"] == ["seat-1"]
    assert again.status_code == 200
    assert again.json()["name"] == "Acme"
    assert Customer.objects.count() == 1


def test_create_errors_name_their_field(authed_client):
    response = authed_client.post(
        "/api/v1/customers",
        {"external_id": "", "email": "not-an-email", "currency": "usd"},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"external_id", "email", "currency"}
    assert not Customer.objects.exists()


def test_create_needs_the_customers_write_scope(make_api_key, api_client):
    _, key = make_api_key(scopes=["customers:read"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = api_client.post("/api/v1/customers", {"external_id": "acme"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "missing_scope"


def test_list_with_read_scope_only(make_api_key, api_client):
    make_customer("acme")
    _, key = make_api_key(scopes=["customers:read"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = api_client.get("/api/v1/customers")
    assert response.status_code == 200
    assert [c["external_id"] for c in response.json()["results"]] == ["acme"]


def test_retrieve_and_unknown_customer_404(authed_client):
    make_customer("acme", name="Acme")
    assert authed_client.get("/api/v1/customers/acme").json()["name"] == "Acme"
    missing = authed_client.get("/api/v1/customers/nobody")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_patch_updates_and_refuses_the_external_id(authed_client):
    make_customer("acme")
    ok = authed_client.patch("/api/v1/customers/acme", {"name": "Acme Inc"}, format="json")
    refused = authed_client.patch("/api/v1/customers/acme", {"external_id": "x"}, format="json")
    assert ok.status_code == 200
    assert ok.json()["name"] == "Acme Inc"
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"] == {"external_id": ["This field cannot be updated."]}


def test_list_searches_filters_archived_and_paginates(authed_client):
    for external_id in ("acme", "acme-eu", "globex"):
        make_customer(external_id)
    authed_client.post("/api/v1/customers/acme-eu/archive", {}, format="json")

    found = authed_client.get("/api/v1/customers", {"search": "acme", "archived": "false"}).json()
    paged = authed_client.get("/api/v1/customers", {"limit": 2, "offset": 1}).json()

    assert [c["external_id"] for c in found["results"]] == ["acme"]
    assert (paged["count"], paged["limit"], paged["offset"]) == (3, 2, 1)
    assert [c["external_id"] for c in paged["results"]] == ["acme-eu", "globex"]


def test_archive_refuses_a_customer_with_a_live_subscription(authed_client):
    make_subscription()  # for customer "acme"
    response = authed_client.post("/api/v1/customers/acme/archive", {}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "customer_has_subscriptions"


def test_members_put_replaces_members_and_aliases(authed_client):
    make_customer("acme", member_ids=["seat-1"])

    response = authed_client.put(
        "/api/v1/customers/acme/members", {"member_ids": ["seat-2", "seat-3"]}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["member_ids"] == ["seat-2", "seat-3"]
    assert set(
        CustomerAlias.objects.filter(kind="member").values_list("alias_id", "customer_id")
    ) == {("seat-2", "acme"), ("seat-3", "acme")}


def test_members_put_conflict_names_the_field(authed_client):
    make_customer("globex")
    make_customer("acme")
    response = authed_client.put(
        "/api/v1/customers/acme/members", {"member_ids": ["globex"]}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["fields"] == {
        "member_ids": ["'globex' already belongs to customer 'globex'."]
    }


def test_a_member_id_of_only_whitespace_is_refused_and_the_schema_says_so(authed_client):
    make_customer("acme")

    response = authed_client.put(
        "/api/v1/customers/acme/members", {"member_ids": ["\t"]}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"member_ids[0]": ["This field may not be blank."]}
    schema = authed_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    members = schema["components"]["schemas"]["CustomerMembersSetInputRequest"]
    assert members["properties"]["member_ids"]["items"]["pattern"] == "\\S"
