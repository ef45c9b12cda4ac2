from decimal import Decimal

import pytest
from rest_framework.test import APIRequestFactory

from billing_site.core.api.errors import api_exception_handler
from billing_site.core.exceptions import ConflictError
from plans.services import charge_create, plan_version_publish, plan_version_update
from tests.plans.factories import (
    SEED_GRADUATED,
    make_metric,
    make_plan,
    make_published_plan,
    make_version,
)

pytestmark = pytest.mark.django_db


def test_plans_list_shows_only_published_plans_at_their_latest_published_version(authed_client):
    # given: professional v1, v2 published and v3 draft; starter published; draft-only plan
    pro = make_plan("professional")
    make_version(pro, publish=True)
    make_version(pro, publish=True, base_fee=Decimal("59"))
    make_version(pro, base_fee=Decimal("99"))
    make_published_plan("starter", base_fee=Decimal("19"))
    make_version(make_plan("secret"))

    # when
    response = authed_client.get("/api/v1/plans")

    # then
    assert response.status_code == 200
    plans = {(p["code"], p["version"], p["base_fee"]) for p in response.json()["results"]}
    assert plans == {("professional", 2, "59.0000"), ("starter", 1, "19.0000")}


def test_plan_detail_has_charges_and_features(authed_client):
    make_published_plan("professional")

    body = authed_client.get("/api/v1/plans/professional").json()

    assert body["version"] == 1
    assert body["charges"] == [
        {
            "metric": "api-calls",
            "metric_name": "Api Calls",
            "charge_model": "graduated",
            "properties": SEED_GRADUATED,
            "invoice_display_name": "",
            "min_amount": None,
            "pay_in_advance": False,
        }
    ]
    assert body["features"] == []


def test_a_draft_only_or_unknown_plan_is_404(authed_client):
    make_version(make_plan("secret"))
    for code in ("secret", "nope"):
        response = authed_client.get(f"/api/v1/plans/{code}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("_case", "units", "amount", "rounded"),
    [
        ("seed guide: 1,500 calls", "1500", "25.00", "25.00"),
        ("first tier full", "1000", "20.00", "20.00"),
        ("into the third tier", "12000", "120.000", "120.00"),
        ("fractional", "0.5", "0.010", "0.01"),
    ],
)
def test_quote_prices_the_seed_guides_graduated_example(
    authed_client, _case, units, amount, rounded
):
    # given the seed guide: 0-1,000 at $0.02, 1,001-10,000 at $0.01, 10,001+ at $0.005
    make_published_plan("professional")

    # when
    response = authed_client.post(
        "/api/v1/pricing/quote",
        {"plan": "professional", "metric": "api-calls", "units": units},
        format="json",
    )

    # then
    assert response.status_code == 200
    body = response.json()
    assert Decimal(body["amount"]) == Decimal(amount)
    assert body["amount_rounded"] == rounded
    assert (body["plan"], body["version"], body["currency"]) == ("professional", 1, "USD")
    assert sum(Decimal(row["amount"]) for row in body["breakdown"]) == Decimal(amount)


def test_quote_breakdown_for_1500_units_lists_each_tier(authed_client):
    make_published_plan("professional")
    body = authed_client.post(
        "/api/v1/pricing/quote",
        {"plan": "professional", "metric": "api-calls", "units": "1500"},
        format="json",
    ).json()
    assert [(r["units"], r["unit_price"], r["amount"]) for r in body["breakdown"]] == [
        ("1000", "0.02", "20.00"),
        ("500", "0.01", "5.00"),
    ]


def test_quote_on_a_named_version(authed_client):
    plan = make_plan("professional")
    make_version(plan, publish=True, charges={"api-calls": ("standard", {"amount": "0.03"})})
    make_published_plan("professional")
    body = authed_client.post(
        "/api/v1/pricing/quote",
        {"plan": "professional", "version": 1, "metric": "api-calls", "units": "100"},
        format="json",
    ).json()
    assert (body["version"], Decimal(body["amount"])) == (1, Decimal("3.00"))


@pytest.mark.parametrize(
    ("_case", "payload", "status", "field"),
    [
        ("unknown plan", {"plan": "nope", "metric": "api-calls", "units": "1"}, 404, "plan"),
        ("unknown metric", {"plan": "professional", "metric": "nope", "units": "1"}, 404, "metric"),
        (
            "negative units",
            {"plan": "professional", "metric": "api-calls", "units": "-1"},
            400,
            "units",
        ),
        ("units missing", {"plan": "professional", "metric": "api-calls"}, 400, "units"),
        (
            "event values not summing to units",
            {"plan": "professional", "metric": "api-calls", "units": "10", "event_values": ["3"]},
            400,
            "event_values",
        ),
    ],
)
def test_quote_errors_name_their_field(authed_client, _case, payload, status, field):
    make_published_plan("professional", charges={"api-calls": ("percentage", {"rate": "2.9"})})
    response = authed_client.post("/api/v1/pricing/quote", payload, format="json")
    assert response.status_code == status
    assert field in response.json()["error"]["fields"]


def test_quote_needs_the_pricing_read_scope(make_api_key, api_client):
    _, key = make_api_key(scopes=["customers:read"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = api_client.post("/api/v1/pricing/quote", {}, format="json")
    assert response.status_code == 403


def test_editing_a_published_version_is_a_409_in_the_api_error_shape():
    # given the service's refusal
    version = make_published_plan()
    with pytest.raises(ConflictError) as raised:
        plan_version_update(version=version, data={"base_fee": Decimal("1")})

    # when the API's exception handler renders it
    request = APIRequestFactory().post("/api/v1/anything")
    response = api_exception_handler(raised.value, {"request": request})

    # then
    assert response.status_code == 409
    assert response.data["error"]["code"] == "version_published"
    assert "cannot be changed" in response.data["error"]["message"]


def test_quote_prices_each_pricing_group_apart(authed_client):
    # given standard {amount: 10, grouped_by: [region]} with 1 free unit per group
    plan = make_plan("regional")
    properties = {"amount": "10", "free_units": "1", "grouped_by": ["region"]}
    make_version(plan, publish=True, charges={"api-calls": ("standard", properties)})
    # when 2 units in us and 1 in eu
    response = authed_client.post(
        "/api/v1/pricing/quote",
        {
            "plan": "regional",
            "metric": "api-calls",
            "groups": [
                {"group": {"region": "us"}, "units": "3"},
                {"group": {"region": "eu"}, "units": "2"},
            ],
        },
        format="json",
    )
    # then (3-1) x 10 and (2-1) x 10
    assert response.status_code == 200
    body = response.json()
    assert [(g["group"], g["amount"]) for g in body["groups"]] == [
        ({"region": "us"}, "20"),
        ({"region": "eu"}, "10"),
    ]
    assert (body["units"], body["amount"], body["amount_rounded"]) == ("5", "30", "30.00")


def test_quote_picks_the_filter_the_event_properties_go_to(authed_client):
    # given eu at 0.01 and us+gpu at 0.05 per unit, no default price
    plan = make_plan("filtered")
    version = make_version(plan)
    charge_create(
        version=version,
        metric=make_metric("api-calls"),
        charge_model="standard",
        properties={},
        filters=[
            {"values": {"region": ["eu"]}, "properties": {"amount": "0.01"}},
            {"values": {"region": ["us"], "tier": ["gpu"]}, "properties": {"amount": "0.05"}},
        ],
    )
    plan_version_publish(version=version)

    def quote(properties):
        payload = {"plan": "filtered", "metric": "api-calls", "units": "100"}
        return authed_client.post(
            "/api/v1/pricing/quote", payload | {"properties": properties}, format="json"
        )

    # when / then
    gpu = quote({"region": "us", "tier": "gpu"}).json()
    assert (gpu["filter_index"], gpu["amount"]) == (1, "5.00")
    unmatched = quote({"region": "us"})
    assert unmatched.status_code == 404
    assert unmatched.json()["error"]["fields"] == {
        "properties": ["Matches no filter of the charge."]
    }


def test_quote_needs_units_or_groups(authed_client):
    make_published_plan("professional")
    response = authed_client.post(
        "/api/v1/pricing/quote", {"plan": "professional", "metric": "api-calls"}, format="json"
    )
    assert response.status_code == 400
    assert "units" in response.json()["error"]["fields"]
