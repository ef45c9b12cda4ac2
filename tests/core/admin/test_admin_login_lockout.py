import pytest
from axes.models import AccessAttempt

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture
def operator(django_user_model):
    return django_user_model.objects.create_superuser("operator", "op@example.com", "right pw")


def _login(client, password):
    return client.post(LOGIN, {"username": "operator", "password": password})


def test_admin_login_is_locked_out_after_five_failures_even_for_the_right_password(
    client, operator
):
    # given: five wrong passwords
    failures = [_login(client, f"wrong {n}").status_code for n in range(5)]

    # when: the right one comes next
    locked = _login(client, "right pw")

    # then
    assert failures == [200, 200, 200, 200, 429]
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    assert AccessAttempt.objects.get(username="operator").failures_since_start == 6


def test_a_successful_login_clears_earlier_failures(client, operator):
    for n in range(3):
        _login(client, f"wrong {n}")
    assert _login(client, "right pw").status_code == 302
    assert not AccessAttempt.objects.filter(username="operator").exists()


def test_admin_pages_send_a_content_security_policy(admin_client):
    response = admin_client.get("/admin/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
