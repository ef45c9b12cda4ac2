import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from billing_site.core.models import ApiKey, AuditLogEntry
from billing_site.core.services import api_key_create

pytestmark = pytest.mark.django_db

BAD_RATES = ["lots", "100", "5/fortnight", "0/minute", "-1/day"]


@pytest.mark.parametrize("rate", BAD_RATES)
def test_an_invalid_rate_is_refused_by_the_service(rate):
    with pytest.raises(ValidationError) as refused:
        api_key_create(name="svc", scopes=["usage:read"], throttle_rate=rate)
    assert "throttle_rate" in refused.value.message_dict
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize("rate", BAD_RATES)
def test_an_invalid_rate_is_refused_by_the_admin_form(admin_client, rate):
    response = admin_client.post(
        "/admin/core/apikey/add/", {"name": "svc", "scopes": ["usage:read"], "throttle_rate": rate}
    )
    assert response.status_code == 200
    assert "N/second, N/minute, N/hour or N/day" in response.content.decode()
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize("rate", ["600/minute", "10/second", "5000/hour", "1/day", "600/min"])
def test_a_valid_rate_is_accepted(rate):
    api_key, _ = api_key_create(name="svc", scopes=["usage:read"], throttle_rate=rate)
    assert api_key.throttle_rate == rate


def test_a_stored_invalid_rate_never_fails_a_request(make_api_key):
    # given: a rate stored before validation existed
    api_key, raw_key = make_api_key()
    ApiKey.objects.filter(pk=api_key.pk).update(throttle_rate="5/fortnight")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")

    # when
    response = client.get("/api/v1/whoami")

    # then: the default rate applies
    assert response.status_code == 200


def test_changing_scopes_or_rate_in_the_admin_is_audited_before_and_after(admin_client):
    # given
    api_key, _ = api_key_create(name="svc", scopes=["usage:read"])

    # when
    response = admin_client.post(
        f"/admin/core/apikey/{api_key.pk}/change/",
        {"name": "svc", "scopes": ["usage:read", "events:write"], "throttle_rate": "60/minute"},
    )

    # then
    assert response.status_code == 302
    api_key.refresh_from_db()
    assert api_key.scopes == ["events:write", "usage:read"]
    entry = AuditLogEntry.objects.get(action="api_key.changed")
    assert entry.actor_label == "admin"
    assert entry.changes == {
        "scopes": {"old": ["usage:read"], "new": ["events:write", "usage:read"]},
        "throttle_rate": {"old": "", "new": "60/minute"},
    }


def test_saving_a_key_unchanged_writes_no_audit_row(admin_client):
    api_key, _ = api_key_create(name="svc", scopes=["usage:read"])
    admin_client.post(
        f"/admin/core/apikey/{api_key.pk}/change/",
        {"name": "svc", "scopes": ["usage:read"], "throttle_rate": ""},
    )
    assert not AuditLogEntry.objects.filter(action="api_key.changed").exists()
