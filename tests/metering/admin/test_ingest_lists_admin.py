from datetime import UTC, datetime, timedelta

import pytest

from metering.models import CustomerAlias, IngestRejection, UnknownCustomer

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _unknown(customer_id: str, events: int = 1) -> UnknownCustomer:
    return UnknownCustomer.objects.create(
        customer_id=customer_id, first_seen_at=T0, last_seen_at=T0, event_count=events
    )


def _rejection(minutes: int, **fields: str) -> IngestRejection:
    fields.setdefault("field", "timestamp")
    fields.setdefault("reason", "A naive datetime; send an offset such as +00:00.")
    return IngestRejection.objects.create(
        received_at=T0 + timedelta(minutes=minutes), payload={"code": "api_calls"}, **fields
    )


def test_unknown_customers_hide_ids_the_catalog_now_knows(admin_client):
    # given: three unknown ids, one since created as a customer, one mapped as a member
    _unknown("newco", events=12)
    _unknown("acme")
    _unknown("seat-user-7")
    CustomerAlias.objects.create(alias_id="acme", customer_id="acme", kind="customer")
    CustomerAlias.objects.create(alias_id="seat-user-7", customer_id="acme", kind="member")
    # when
    response = admin_client.get("/admin/metering/unknowncustomer/")
    # then
    shown = [row.customer_id for row in response.context["cl"].result_list]
    assert shown == ["newco"]
    page = response.content.decode()
    assert ">12<" in page
    assert "/admin/metering/event/?q=newco" in page


def test_rejections_are_listed_newest_first_with_field_and_reason(admin_client):
    # given
    _rejection(1, transaction_id="t-1")
    _rejection(3, transaction_id="t-3", field="code", reason="Unknown metric code 'api_call'.")
    _rejection(2, transaction_id="t-2")
    # when
    response = admin_client.get("/admin/metering/ingestrejection/")
    # then
    rows = list(response.context["cl"].result_list)
    assert [row.transaction_id for row in rows] == ["t-3", "t-2", "t-1"]
    assert "Unknown metric code &#x27;api_call&#x27;." in response.content.decode()


def test_rejections_filter_by_field_and_search_by_transaction_or_customer(admin_client):
    # given
    _rejection(1, transaction_id="t-1", customer_id="acme")
    _rejection(2, transaction_id="t-2", customer_id="globex", field="properties")
    _rejection(3, transaction_id="t-3", customer_id="globex")
    # when
    page = admin_client.get("/admin/metering/ingestrejection/").content.decode()
    by_field = admin_client.get("/admin/metering/ingestrejection/", {"field": "properties"})
    by_transaction = admin_client.get("/admin/metering/ingestrejection/", {"q": "t-3"})
    by_customer = admin_client.get("/admin/metering/ingestrejection/", {"q": "globex"})

    # then
    def ids(response):
        return [row.transaction_id for row in response.context["cl"].result_list]

    assert "?field=properties" in page
    assert "?field=timestamp" in page
    assert ids(by_field) == ["t-2"]
    assert ids(by_transaction) == ["t-3"]
    assert ids(by_customer) == ["t-3", "t-2"]


def test_rejection_detail_shows_the_payload_as_sent(admin_client):
    rejection = _rejection(1)
    response = admin_client.get(f"/admin/metering/ingestrejection/{rejection.pk}/change/")
    assert "&quot;code&quot;: &quot;api_calls&quot;" in response.content.decode()


@pytest.mark.parametrize(
    ("_case", "model", "make"),
    [
        ("unknown customer", "unknowncustomer", lambda: _unknown("newco")),
        ("rejection", "ingestrejection", lambda: _rejection(1)),
        (
            "alias",
            "customeralias",
            lambda: CustomerAlias.objects.create(alias_id="u1", customer_id="acme", kind="member"),
        ),
    ],
)
def test_ingest_lists_are_read_only(admin_client, _case, model, make):
    # given
    row = make()
    url = f"/admin/metering/{model}/"
    # when
    listed = admin_client.get(url)
    viewed = admin_client.get(f"{url}{row.pk}/change/")
    add = admin_client.get(f"{url}add/")
    delete = admin_client.post(f"{url}{row.pk}/delete/", {"post": "yes"})
    # then
    assert (listed.status_code, viewed.status_code) == (200, 200)
    assert 'name="_save"' not in viewed.content.decode()
    assert (add.status_code, delete.status_code) == (403, 403)
    assert type(row).objects.filter(pk=row.pk).exists()
