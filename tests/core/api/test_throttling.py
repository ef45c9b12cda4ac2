import os
import uuid

import pytest

pytestmark = pytest.mark.django_db


def test_a_key_over_its_rate_gets_429_with_retry_after(api_client, make_api_key):
    # given: a key allowed 2 requests a minute
    _, raw_key = make_api_key(throttle_rate="2/min")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    # when
    statuses = [api_client.get("/api/v1/whoami").status_code for _ in range(3)]
    response = api_client.get("/api/v1/whoami")
    # then
    assert statuses == [200, 200, 429]
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["error"]["code"] == "throttled"


def test_keys_are_throttled_independently(api_client, make_api_key):
    _, busy_key = make_api_key(throttle_rate="1/min")
    _, other_key = make_api_key()
    assert (
        api_client.get("/api/v1/whoami", HTTP_AUTHORIZATION=f"Bearer {busy_key}").status_code == 200
    )
    assert (
        api_client.get("/api/v1/whoami", HTTP_AUTHORIZATION=f"Bearer {busy_key}").status_code == 429
    )
    assert (
        api_client.get("/api/v1/whoami", HTTP_AUTHORIZATION=f"Bearer {other_key}").status_code
        == 200
    )


def test_the_throttle_keeps_one_counter_per_window_however_many_requests(api_client, make_api_key):
    # given: a key with a high rate
    from django.core.cache import cache

    from billing_site.core.api.throttling import ApiKeyRateThrottle

    key, raw_key = make_api_key(throttle_rate="1000/min")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    # when: 30 requests
    statuses = {api_client.get("/api/v1/whoami").status_code for _ in range(30)}
    # then: all allowed, and the cache holds a count, not a list of 30 times
    assert statuses == {200}
    throttle = ApiKeyRateThrottle()
    ident = throttle.cache_format % {"scope": throttle.scope, "ident": key.prefix}
    counts = [
        cache.get(f"{ident}:{int(throttle.timer() // 60) - n}") for n in (0, 1)
    ]  # a minute may have turned during the requests
    assert sum(c or 0 for c in counts) == 30


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="the Redis path needs REDIS_URL")
def test_on_redis_a_window_counter_expires_after_its_window():
    # given: the cache is Redis, and a key limited per minute
    from django.core.cache import caches

    from billing_site.core.api.throttling import ApiKeyRateThrottle

    backend = caches["default"]
    key = f"throttle-test-{uuid.uuid4().hex}"
    throttle = ApiKeyRateThrottle()
    throttle.num_requests, throttle.duration = throttle.parse_rate("5/min")
    # when: three requests counted in one window
    counts = [throttle._window_count(key) for _ in range(3)]
    # then: counted in one round trip each, and the counter dies a second after the window
    full_key = backend.make_and_validate_key(key)
    ttl = backend._cache.get_client(full_key).ttl(full_key)
    assert counts == [1, 2, 3]
    assert 0 < ttl <= 61
    assert backend.get(key) == 3
