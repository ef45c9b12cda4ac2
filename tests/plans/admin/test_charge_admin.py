import json
from decimal import Decimal

import pytest
from django.urls import reverse

from billing_site.core.models import AuditLogEntry
from plans.models import Charge
from tests.plans.admin.conftest import form_data, tier_rows
from tests.plans.factories import make_metric

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:plans_charge_add")
PREVIEW_URL = reverse("admin:plans_charge_preview")


def _charge_form(version, metric, model: str, **fields: str) -> dict[str, str]:
    return {
        "version": str(version.pk),
        "metric": str(metric.pk),
        "charge_model": model,
        "invoice_display_name": "",
        "min_amount": "",
        **tier_rows(),
        **fields,
    }


def test_graduated_tier_rows_become_lago_properties(admin_client, starter_draft):
    # given
    tokens = make_metric("llm_tokens", aggregation="sum", field_name="tokens")
    rows = tier_rows(
        ("0", "1000000", "0", ""),
        ("1000001", "10000000", "0.000002", ""),
        ("10000001", "", "0.000001", "5"),
    )
    # when
    response = admin_client.post(
        ADD_URL,
        _charge_form(starter_draft, tokens, "graduated", **rows, invoice_display_name="LLM tokens"),
    )
    # then
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:plans_planversion_change", args=[starter_draft.pk]
    )
    charge = Charge.objects.get(version=starter_draft, metric=tokens)
    assert charge.properties == {
        "graduated_ranges": [
            {"from_value": 0, "to_value": 1000000, "per_unit_amount": "0", "flat_amount": "0"},
            {
                "from_value": 1000001,
                "to_value": 10000000,
                "per_unit_amount": "0.000002",
                "flat_amount": "0",
            },
            {
                "from_value": 10000001,
                "to_value": None,
                "per_unit_amount": "0.000001",
                "flat_amount": "5",
            },
        ]
    }
    assert AuditLogEntry.objects.filter(action="charge.created", actor_label="admin").count() == 1


def test_a_gap_between_tiers_is_shown_on_the_form_naming_the_tier(admin_client, starter_draft):
    # given
    tokens = make_metric("llm_tokens")
    rows = tier_rows(("0", "1000", "0", ""), ("1500", "", "0.01", ""))
    # when
    response = admin_client.post(ADD_URL, _charge_form(starter_draft, tokens, "graduated", **rows))
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert (
        "Tier 2 must start at 1000 or 1001 (right after tier 1 ends at 1000); got 1500 (gap)."
        in html
    )
    assert '<tr class="tier-row plans-tier-invalid">' in html
    assert not Charge.objects.filter(metric=tokens).exists()
    assert not AuditLogEntry.objects.filter(action="charge.created", actor_label="admin").exists()


def test_blank_and_removed_tier_rows_are_ignored(admin_client, starter_draft):
    # given
    tokens = make_metric("llm_tokens")
    rows = tier_rows(
        ("0", "100", "1", ""), ("", "", "", ""), ("101", "200", "9", ""), ("101", "", "0.5", "")
    )
    rows["tiers-2-DELETE"] = "on"
    # when
    admin_client.post(ADD_URL, _charge_form(starter_draft, tokens, "volume", **rows))
    # then
    assert Charge.objects.get(metric=tokens).properties == {
        "volume_ranges": [
            {"from_value": 0, "to_value": 100, "per_unit_amount": "1", "flat_amount": "0"},
            {"from_value": 101, "to_value": None, "per_unit_amount": "0.5", "flat_amount": "0"},
        ]
    }


@pytest.mark.parametrize(
    ("_case", "model", "fields", "properties"),
    [
        (
            "standard",
            "standard",
            {"amount": "0.01", "free_units": "700"},
            {"amount": "0.01", "free_units": 700},
        ),
        (
            "package",
            "package",
            {"amount": "10", "package_size": "1000"},
            {"amount": "10", "package_size": 1000},
        ),
        (
            "percentage",
            "percentage",
            {"rate": "2.9", "fixed_amount": "0.30", "per_transaction_max_amount": "5"},
            {"rate": "2.9", "fixed_amount": "0.30", "per_transaction_max_amount": "5"},
        ),
    ],
)
def test_each_model_keeps_only_its_own_fields(
    admin_client, starter_draft, _case, model, fields, properties
):
    # given: a field of another model left filled in
    metric = make_metric("payments")
    data = _charge_form(starter_draft, metric, model, **fields)
    if model == "percentage":
        data.setdefault("amount", "3")
    else:
        data.setdefault("rate", "50")
    # when
    admin_client.post(ADD_URL, data)
    # then
    assert Charge.objects.get(metric=metric).properties == properties


def test_field_errors_land_on_their_field(admin_client, starter_draft):
    # given
    metric = make_metric("exports")
    data = _charge_form(starter_draft, metric, "package", amount="10", package_size="0")
    # when
    response = admin_client.post(ADD_URL, data)
    # then
    errors = '<ul class="errorlist" id="id_package_size_error"><li>Package size must be'
    assert f"{errors} greater than 0; got 0.</li>" in response.content.decode()
    assert not Charge.objects.filter(metric=metric).exists()


def test_editing_a_draft_charge_shows_its_tiers_and_updates_them(admin_client, starter_draft):
    # given
    charge = starter_draft.charges.get()
    url = reverse("admin:plans_charge_change", args=[charge.pk])
    page = admin_client.get(url)
    data = form_data(page, "charge_form")
    assert (data["tiers-0-to_value"], data["tiers-1-per_unit_amount"]) == ("1000", "0.01")
    # when
    admin_client.post(url, data | {"tiers-1-per_unit_amount": "0.012"})
    # then
    charge.refresh_from_db()
    assert charge.properties["graduated_ranges"][1] == {
        "from_value": 1001,
        "to_value": None,
        "per_unit_amount": "0.012",
        "flat_amount": "0",
    }
    audit = AuditLogEntry.objects.get(action="charge.updated")
    assert list(audit.changes) == ["properties"]


def test_charge_of_a_published_version_is_read_only(admin_client, starter_v1):
    # given
    charge = starter_v1.charges.get()
    url = reverse("admin:plans_charge_change", args=[charge.pk])
    # when
    page = admin_client.get(url)
    post = admin_client.post(url, _charge_form(starter_v1, charge.metric, "standard", amount="9"))
    # then
    html = page.content.decode()
    assert 'name="charge_model"' not in html
    assert 'id="charge-tiers"' not in html
    assert "1,001 and up" in html or "1,001" in html
    assert post.status_code == 403
    charge.refresh_from_db()
    assert charge.charge_model == "graduated"


def test_preview_prices_the_form_as_typed(admin_client, starter_draft):
    # given
    data = {
        "charge_model": "graduated",
        **tier_rows(("0", "1000", "0", ""), ("1001", "", "0.01", "")),
    }
    # when
    response = admin_client.post(f"{PREVIEW_URL}?version={starter_draft.pk}", data)
    # then
    body = json.loads(response.content)
    assert body["ok"] is True
    assert body["sentence"] == "1,500 units cost $5.00"
    assert body["units"] == "1500"
    assert [row["amount"] for row in body["breakdown"]] == ["0", "5.00"]


def test_preview_uses_the_units_asked_for(admin_client):
    # when
    response = admin_client.post(
        PREVIEW_URL,
        {
            "charge_model": "standard",
            "amount": "0.01",
            "free_units": "700",
            "example_units": "1000",
        },
    )
    # then
    assert json.loads(response.content)["sentence"] == "1,000 units cost $3.00"


def test_preview_explains_what_is_missing(admin_client):
    # when
    response = admin_client.post(
        PREVIEW_URL,
        {"charge_model": "graduated", **tier_rows(("0", "100", "1", ""), ("150", "", "1", ""))},
    )
    # then
    body = json.loads(response.content)
    assert body["ok"] is False
    assert any("Tier 2 must start at 100 or 101" in message for message in body["errors"])


def test_preview_needs_a_staff_login(client):
    # when
    response = client.post(PREVIEW_URL, {"charge_model": "standard", "amount": "1"})
    # then
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_min_amount_is_kept(admin_client, starter_draft):
    # given
    metric = make_metric("storage")
    # when
    admin_client.post(
        ADD_URL, _charge_form(starter_draft, metric, "standard", amount="0.1", min_amount="5")
    )
    # then
    assert Charge.objects.get(metric=metric).min_amount == Decimal("5.0000")
