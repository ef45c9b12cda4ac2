"""The event browser and an event's page render whatever ingest ever stored."""

from datetime import UTC, datetime

import pytest
from django.db import connection

from metering.models import Event, IngestRejection

pytestmark = pytest.mark.django_db

URL = "/admin/metering/event/"


def _stored_event(transaction_id: str, properties_json: str) -> Event:
    # Written with SQL as older ingest stored it, bypassing today's depth limit.
    moment = datetime(2026, 5, 1, tzinfo=UTC)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO metering_event (customer_id, transaction_id, code, subscription_id,"
            " member_id, timestamp, received_at, properties, payload_hash)"
            " VALUES ('acme', %s, 'api_calls', '', '', %s, %s, %s::jsonb, 'h') RETURNING id",
            [transaction_id, moment, moment, properties_json],
        )
        event_id = cursor.fetchone()[0]
    return Event.objects.defer("properties").get(id=event_id)


def test_an_event_nested_900_levels_deep_renders_in_the_browser_and_on_its_page(admin_client):
    # given
    event = _stored_event("deep", '{"a": ' * 900 + "1" + "}" * 900)

    # when
    listing = admin_client.get(URL)
    page = admin_client.get(f"{URL}{event.id}/change/")

    # then
    assert listing.status_code == 200
    assert page.status_code == 200
    assert "nested more than 200 levels; shown as stored" in page.content.decode()


def test_properties_are_escaped_and_bounded(admin_client):
    # given
    event = _stored_event(
        "xss", '{"html": "<script>alert(1)</script>", "long": "' + "x" * 40_000 + '"}'
    )

    # when
    listing = admin_client.get(URL).content.decode()
    page = admin_client.get(f"{URL}{event.id}/change/").content.decode()

    # then
    assert "<script>alert(1)</script>" not in listing + page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "x" * 16_384 not in page
    assert "x" * 1000 in page


def test_a_deep_rejected_payload_renders_on_its_page(admin_client):
    # given
    rejection = IngestRejection.objects.create(
        received_at=datetime(2026, 5, 1, tzinfo=UTC), field="event", reason="r", payload=None
    )
    IngestRejection.objects.filter(pk=rejection.pk).update(payload=None)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE metering_ingestrejection SET payload = %s::jsonb WHERE id = %s",
            ['{"a": ' * 900 + "1" + "}" * 900, rejection.pk],
        )

    # when
    page = admin_client.get(f"/admin/metering/ingestrejection/{rejection.pk}/change/")

    # then
    assert page.status_code == 200
