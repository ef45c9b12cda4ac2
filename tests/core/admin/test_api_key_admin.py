import re

import pytest

from billing_site.core.models import ApiKey, AuditLogEntry
from billing_site.core.services import api_key_hash

pytestmark = pytest.mark.django_db


def test_creating_a_key_shows_the_full_key_exactly_once(admin_client):
    # when
    response = admin_client.post(
        "/admin/core/apikey/add/",
        {"name": "ingest-service", "scopes": ["events:write", "usage:read"], "throttle_rate": ""},
        follow=True,
    )
    # then: the message carries the key, and the stored row only its hash
    page = response.content.decode()
    match = re.search(r"(bk_[0-9a-f]{8}_[A-Za-z0-9_\-]+)", page)
    assert match, page
    raw_key = match.group(1)
    api_key = ApiKey.objects.get()
    assert api_key.name == "ingest-service"
    assert api_key.scopes == ["events:write", "usage:read"]
    assert api_key.secret_hash == api_key_hash(raw_key.split("_", 2)[2])
    assert AuditLogEntry.objects.filter(
        action="api_key.created", object_id=str(api_key.pk)
    ).exists()
    # and never again
    again = admin_client.get(f"/admin/core/apikey/{api_key.pk}/change/").content.decode()
    assert raw_key not in again
    assert f"bk_{api_key.prefix}_…" in again


def test_revoking_asks_for_confirmation_and_a_reason_first(admin_client, make_api_key):
    # given
    api_key, _ = make_api_key(name="old-service")
    data = {"action": "revoke_selected", "_selected_action": [api_key.pk]}
    # when: the action is chosen
    confirm = admin_client.post("/admin/core/apikey/", data)
    # then: a confirmation page, nothing revoked yet
    assert confirm.status_code == 200
    assert "Services using these keys will get 401" in confirm.content.decode()
    api_key.refresh_from_db()
    assert api_key.revoked_at is None
    # when: confirmed with a reason
    admin_client.post("/admin/core/apikey/", {**data, "post": "yes", "reason": "rotated"})
    # then
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    entry = AuditLogEntry.objects.get(action="api_key.revoked")
    assert (entry.actor_label, entry.reason) == ("admin", "rotated")


def test_keys_cannot_be_deleted_only_revoked(admin_client, make_api_key):
    api_key, _ = make_api_key()
    response = admin_client.get(f"/admin/core/apikey/{api_key.pk}/delete/")
    assert response.status_code == 403
