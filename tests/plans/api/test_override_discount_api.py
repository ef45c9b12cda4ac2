import pytest

from plans.models import SubscriptionOverride
from tests.plans.factories import make_subscription

pytestmark = pytest.mark.django_db

URL = "/api/v1/subscriptions/sub-1/overrides"


def test_a_discount_override_is_created_through_the_api(authed_client):
    # given
    make_subscription(external_id="sub-1")
    # when
    response = authed_client.post(
        URL,
        {
            "kind": "charge",
            "metric": "api-calls",
            "value": {"discount_percent": "15"},
            "reason": "Pilot",
        },
        format="json",
    )
    # then
    assert response.status_code == 201
    assert response.json()["value"] == {"discount_percent": "15"}


@pytest.mark.parametrize(
    ("_case", "discount"),
    [("over 100%", "101"), ("zero", 0), ("a list", [20]), ("not a number", "NaN")],
)
def test_a_bad_discount_is_a_400_naming_the_field(authed_client, _case, discount):
    # given
    make_subscription(external_id="sub-1")
    # when
    response = authed_client.post(
        URL,
        {"kind": "base_fee", "value": {"discount_percent": discount}, "reason": "x"},
        format="json",
    )
    # then
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["value.discount_percent"]
    assert not SubscriptionOverride.objects.exists()
