import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.core.api.error_views")]


def test_validation_errors_name_each_field_with_its_reason(authed_client):
    # when
    response = authed_client.post(
        "/api/v1/validate", {"lines": [{"quantity": "2"}, {"quantity": "-1"}]}, format="json"
    )
    # then
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid",
            "message": "customer_id: This field is required.",
            "fields": {
                "customer_id": ["This field is required."],
                "lines[1].quantity": ["Ensure this value is greater than or equal to 0."],
            },
        }
    }


def test_malformed_json_is_a_400_in_the_same_shape(authed_client):
    response = authed_client.generic(
        "POST", "/api/v1/validate", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["code"] == "parse_error"
    assert body["error"]["message"].startswith("JSON parse error")
    assert body["error"]["fields"] == {}


def test_unknown_api_path_is_a_404_in_the_error_shape(authed_client):
    response = authed_client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "No such endpoint.", "fields": {}}
    }


def test_wrong_method_is_a_405_in_the_error_shape(authed_client):
    response = authed_client.delete("/api/v1/whoami")
    assert response.status_code == 405
    assert response.json() == {
        "error": {
            "code": "method_not_allowed",
            "message": 'Method "DELETE" not allowed.',
            "fields": {},
        }
    }


def test_unexpected_exception_is_logged_and_answered_500_without_details(authed_client, caplog):
    # when
    response = authed_client.get("/api/v1/explode")
    # then
    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "code": "server_error",
            "message": "An unexpected error occurred; it has been logged.",
            "fields": {},
        }
    }
    assert "hunter2" not in response.content.decode()
    assert any("hunter2" in (r.exc_text or str(r.exc_info)) for r in caplog.records)


def test_domain_errors_keep_their_status_code_fields_and_numbers(authed_client):
    response = authed_client.get("/api/v1/refuse")
    assert response.status_code == 402
    assert response.json() == {
        "error": {
            "code": "insufficient_balance",
            "message": "Not enough credits.",
            "fields": {"units": ["Asked 10, 4 remain."]},
            "remaining": "4",
        }
    }


def test_the_admin_keeps_django_s_own_404_page(admin_client):
    response = admin_client.get("/admin/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
