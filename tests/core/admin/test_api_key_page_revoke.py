import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from billing_site.core.models import ApiKey, AuditLogEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def role_client(client, django_user_model):
    def login(role: str):
        user = django_user_model.objects.create_user(role, f"{role}@example.com", "pw")
        user.is_staff = True
        user.save()
        user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
        return client

    return login


def test_a_key_is_revoked_from_its_own_page_after_a_confirmation(admin_client, make_api_key):
    # given
    api_key, _ = make_api_key(name="billing service")
    page = admin_client.get(reverse("admin:core_apikey_change", args=[api_key.pk]))
    revoke_url = reverse("admin:core_apikey_revoke", args=[api_key.pk])
    assert f'href="{revoke_url}"' in page.content.decode()
    # when: the button is followed
    confirm = admin_client.get(revoke_url)
    # then: a question, nothing revoked yet
    assert confirm.status_code == 200
    assert "Services using these keys will get 401" in confirm.content.decode()
    api_key.refresh_from_db()
    assert api_key.revoked_at is None
    # when: confirmed with a reason
    done = admin_client.post(revoke_url, {"post": "yes", "reason": "leaked in a log"})
    # then: revoked, audited, and back on the key's page without the button
    assert done.status_code == 302
    assert done.url == reverse("admin:core_apikey_change", args=[api_key.pk])
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    entry = AuditLogEntry.objects.get(action="api_key.revoked", object_id=str(api_key.pk))
    assert entry.reason == "leaked in a log"
    again = admin_client.get(done.url).content.decode()
    assert revoke_url not in again


def test_revoking_from_the_page_without_a_reason_revokes_nothing(admin_client, make_api_key):
    api_key, _ = make_api_key()
    url = reverse("admin:core_apikey_revoke", args=[api_key.pk])
    admin_client.post(url, {"post": "yes", "reason": "  "})
    api_key.refresh_from_db()
    assert api_key.revoked_at is None
    assert not AuditLogEntry.objects.filter(action="api_key.revoked").exists()


def test_finance_sees_no_revoke_button_and_is_told_ops_may_revoke(role_client, make_api_key):
    # given: finance may view keys, only ops may change them
    api_key, _ = make_api_key()
    client = role_client("finance")
    # when
    page = client.get(reverse("admin:core_apikey_change", args=[api_key.pk]))
    refused = client.post(
        reverse("admin:core_apikey_revoke", args=[api_key.pk]), {"post": "yes", "reason": "x"}
    )
    # then
    assert page.status_code == 200
    assert "apikey-revoke" not in page.content.decode()
    assert refused.status_code == 403
    body = refused.content.decode()
    assert "may not change <strong>API keys</strong>" in body
    assert "<strong>ops</strong>" in body
    api_key.refresh_from_db()
    assert api_key.revoked_at is None


def test_the_key_list_filters_revoked_and_active_in_words(admin_client, make_api_key):
    # given
    active, _ = make_api_key(name="in use")
    revoked, _ = make_api_key(name="rotated")
    ApiKey.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    url = reverse("admin:core_apikey_changelist")
    # when
    page = admin_client.get(url)
    only_revoked = admin_client.get(url, {"status": "yes"})
    only_active = admin_client.get(url, {"status": "no"})
    # then
    body = page.content.decode()
    assert ">Revoked</a>" in body
    assert ">Active</a>" in body
    assert "Not empty" not in body
    assert [k.name for k in only_revoked.context["cl"].result_list] == ["rotated"]
    assert [k.name for k in only_active.context["cl"].result_list] == ["in use"]
