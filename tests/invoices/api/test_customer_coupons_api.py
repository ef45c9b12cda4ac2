"""POST /api/v1/customers/{id}/coupons: 201 with the applied coupon, and a clear 4xx naming the
field for an unknown customer or code, an expired or exhausted coupon, one already applied."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from invoices.models import AppliedCoupon
from tests.invoices.adjustment_factories import make_coupon
from tests.plans.factories import make_customer

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/{}/coupons"


def _post(client, customer: str, **body):
    return client.post(URL.format(customer), body, format="json")


def test_applying_a_coupon_answers_201_with_the_customers_own_terms(authed_client):
    # given
    make_customer("acme")
    make_coupon("welcome", percentage="10", duration="periods", periods=3)

    # when the customer gets it at 15 % instead of 10 %
    response = _post(authed_client, "acme", code="welcome", percentage="15")

    # then
    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("customer", "code", "kind", "percentage", "amount")} == {
        "customer": "acme",
        "code": "welcome",
        "kind": "percentage",
        "percentage": "15",
        "amount": None,
    }
    assert (body["periods_remaining"], body["status"]) == (3, "active")
    applied = AppliedCoupon.objects.get()
    assert (applied.percentage, applied.periods_remaining) == (Decimal("15.0000"), 3)


def test_a_fixed_coupon_starts_with_its_whole_balance(authed_client):
    make_customer("acme")
    make_coupon("fifty", amount="50")

    response = _post(authed_client, "acme", code="fifty")

    assert response.status_code == 201
    assert (response.json()["amount"], response.json()["amount_remaining"]) == ("50", "50")


@pytest.mark.parametrize(
    ("_case", "customer", "body", "status", "code", "field"),
    [
        ("unknown customer", "nobody", {"code": "welcome"}, 404, "not_found", "customer"),
        ("unknown code", "acme", {"code": "nope"}, 404, "not_found", "code"),
        ("no code", "acme", {}, 400, "invalid", "code"),
        ("amount on a percentage", "acme", {"code": "welcome", "amount": "5"}, 400, None, "amount"),
        (
            "rate over 100",
            "acme",
            {"code": "welcome", "percentage": "101"},
            400,
            None,
            "percentage",
        ),
        ("expired", "acme", {"code": "old"}, 422, "coupon_expired", "code"),
        ("limit reached", "acme", {"code": "one-only"}, 422, "coupon_limit_reached", "code"),
    ],
)
def test_refusals_answer_a_4xx_naming_the_field(
    authed_client, _case, customer, body, status, code, field
):
    # given
    make_customer("acme")
    make_customer("other")
    make_coupon("welcome", percentage="10")
    make_coupon("old", amount="5", expires_on=date(2026, 1, 31))
    make_coupon("one-only", amount="5", limit=1)
    assert _post(authed_client, "other", code="one-only").status_code == 201

    # when
    with time_machine.travel("2026-02-01T00:00:00Z"):
        response = _post(authed_client, customer, **body)

    # then nothing is applied to acme
    assert response.status_code == status
    error = response.json()["error"]
    assert field in error["fields"]
    if code:
        assert error["code"] == code
    assert not AppliedCoupon.objects.filter(customer__external_id="acme").exists()


def test_applying_the_same_coupon_twice_answers_409_and_keeps_one(authed_client):
    make_customer("acme")
    make_coupon("welcome", percentage="10")
    assert _post(authed_client, "acme", code="welcome").status_code == 201

    response = _post(authed_client, "acme", code="welcome")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "coupon_already_applied"
    assert "code" in response.json()["error"]["fields"]
    assert AppliedCoupon.objects.count() == 1


def test_a_key_without_the_customers_write_scope_is_refused(api_client, make_api_key):
    make_customer("acme")
    make_coupon("welcome", percentage="10")
    _, raw = make_api_key(scopes=["customers:read"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = _post(api_client, "acme", code="welcome")

    assert response.status_code == 403
    assert not AppliedCoupon.objects.exists()


def test_the_schema_documents_every_status_of_the_operation(authed_client):
    schema = authed_client.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/customers/{external_id}/coupons"]["post"]
    assert operation["operationId"] == "customers_coupons_apply"
    assert set(operation["responses"]) >= {"201", "400", "401", "403", "404", "409", "422"}


def test_a_coupon_the_customer_used_up_is_not_applied_again(authed_client):
    # given acme used up its once-only coupon
    make_customer("acme")
    make_coupon("welcome", percentage="10")
    assert _post(authed_client, "acme", code="welcome").status_code == 201
    AppliedCoupon.objects.update(status="used_up", periods_remaining=0)

    # when it is applied again
    response = _post(authed_client, "acme", code="welcome")

    # then
    assert response.status_code == 409
    assert AppliedCoupon.objects.count() == 1
