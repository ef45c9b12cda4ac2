import pytest
from django.utils import timezone

from billing_site.core.models import ApiKey
from billing_site.core.services import api_key_revoke

pytestmark = pytest.mark.django_db

WHOAMI = "/api/v1/whoami"


def test_valid_key_is_accepted_and_its_use_recorded(api_client, make_api_key):
    # given
    api_key, raw_key = make_api_key(scopes=["events:write"], name="ingest")
    # when
    response = api_client.get(WHOAMI, HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    # then
    assert response.status_code == 200
    assert response.json() == {
        "name": "ingest",
        "prefix": api_key.prefix,
        "scopes": ["events:write"],
    }
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None


def test_only_a_hash_of_the_secret_is_stored(make_api_key):
    api_key, raw_key = make_api_key()
    secret = raw_key.split("_", 2)[2]
    stored = ApiKey.objects.get(pk=api_key.pk)
    assert secret not in stored.secret_hash
    assert len(stored.secret_hash) == 64
    assert raw_key.startswith(f"bk_{api_key.prefix}_")


def test_missing_key_is_401_with_the_error_shape(api_client):
    response = api_client.get(WHOAMI)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json() == {
        "error": {
            "code": "unauthenticated",
            "message": "Send an API key as 'Authorization: Bearer <key>'.",
            "fields": {},
        }
    }


@pytest.mark.parametrize(
    ("_case", "header"),
    [
        ("unknown prefix", "Bearer bk_00000000_notarealsecret"),
        ("not our format", "Bearer sk_live_123"),
        ("wrong scheme", "Token bk_00000000_x"),
        ("empty bearer", "Bearer "),
    ],
)
def test_unknown_or_malformed_key_is_401(api_client, make_api_key, _case, header):
    make_api_key()
    response = api_client.get(WHOAMI, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_right_prefix_with_wrong_secret_is_401(api_client, make_api_key):
    api_key, _ = make_api_key()
    response = api_client.get(WHOAMI, HTTP_AUTHORIZATION=f"Bearer bk_{api_key.prefix}_guessed")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Unknown API key."


def test_revoked_key_is_401_and_says_so(api_client, make_api_key):
    # given
    api_key, raw_key = make_api_key()
    api_key_revoke(api_key=api_key, actor=None, reason="leaked")
    # when
    response = api_client.get(WHOAMI, HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    # then
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "api_key_revoked",
        "message": "This API key was revoked.",
        "fields": {},
    }


def test_revoking_twice_keeps_the_first_time(make_api_key):
    api_key, _ = make_api_key()
    first = api_key_revoke(api_key=api_key, actor=None).revoked_at
    second = api_key_revoke(api_key=api_key, actor=None).revoked_at
    assert first == second
    assert first <= timezone.now()


def test_key_without_the_scope_is_403_naming_it(api_client, make_api_key, settings):
    # given: a view that needs usage:read, a key that has only events:write
    _, raw_key = make_api_key(scopes=["events:write"])
    from billing_site.core.api.views import ApiKeyWhoAmIApi

    ApiKeyWhoAmIApi.required_scopes = ("usage:read",)
    try:
        # when
        response = api_client.get(WHOAMI, HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    finally:
        ApiKeyWhoAmIApi.required_scopes = ()
    # then
    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "missing_scope",
        "message": "This API key lacks the scope usage:read.",
        "fields": {},
    }


def test_creating_a_key_with_an_unknown_scope_is_refused(make_api_key):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as excinfo:
        make_api_key(scopes=["events:write", "root:all"])
    assert excinfo.value.message_dict == {"scopes": ["Unknown scope(s): root:all."]}
    assert ApiKey.objects.count() == 0


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS"])
@pytest.mark.parametrize(
    ("scopes", "status"), [(["customers:read"], 200), (["customers:write"], 403)]
)
def test_head_and_options_need_the_scope_of_get(make_api_key, api_client, method, scopes, status):
    # given: GET /customers needs customers:read, POST needs customers:write
    _, raw_key = make_api_key(scopes=scopes)

    # when
    response = api_client.generic(
        method, "/api/v1/customers", HTTP_AUTHORIZATION=f"Bearer {raw_key}"
    )

    # then
    assert response.status_code == status


def test_the_key_read_for_a_request_holds_every_stored_field(make_api_key):
    # given: a key with every field set
    from billing_site.core.selectors import api_key_get_by_prefix

    api_key, _ = make_api_key(scopes=["events:write", "usage:read"], throttle_rate="50/minute")
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=timezone.now())
    stored = ApiKey.objects.get(pk=api_key.pk)
    # when: read through the hot path's prepared statement
    read = api_key_get_by_prefix(prefix=api_key.prefix)
    # then: no field is missing or different (a new field must be added to the statement)
    assert read is not None
    assert read.get_deferred_fields() == set()
    for field in ApiKey._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(stored, field.attname), field.name
    assert api_key_get_by_prefix(prefix="nosuchkey") is None
