"""Charge filters, pricing groups and proration in the charge admin and the version pages."""

import pytest
from django.urls import reverse

from plans.models import Charge, PlanVersion
from plans.services import charge_create, plan_version_create_draft_from, plan_version_publish
from tests.plans.admin.conftest import tier_rows
from tests.plans.factories import make_metric, make_plan, make_version

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:plans_charge_add")


def _filter_rows(*rows: tuple[str, str, dict[str, str], str]) -> dict[str, str]:
    """The filter formset's POST data: rows of (events where, invoice name, price fields,
    grouped by); each row's price is posted as the page's editor posts it, under
    `filters-N-price-` (its tier rows under `filters-N-price-tiers-`)."""
    data = {
        "filters-TOTAL_FORMS": str(len(rows)),
        "filters-INITIAL_FORMS": "0",
        "filters-MIN_NUM_FORMS": "0",
        "filters-MAX_NUM_FORMS": "1000",
    }
    for index, (values, name, price, grouped_by) in enumerate(rows):
        prefix = f"filters-{index}-price"
        tiers = {f"{prefix}-{key}": value for key, value in tier_rows(("0", "", "", "")).items()}
        data |= {
            f"filters-{index}-values": values,
            f"filters-{index}-invoice_display_name": name,
            f"{prefix}-grouped_by": grouped_by,
            **tiers,
            **{f"{prefix}-{key}": value for key, value in price.items()},
        }
    return data


def _form(version, metric, **fields):
    return {
        "version": str(version.pk),
        "metric": str(metric.pk),
        "charge_model": "standard",
        "invoice_display_name": "LLM tokens",
        "min_amount": "",
        **tier_rows(),
        **_filter_rows(),
        **fields,
    }


@pytest.fixture
def draft() -> PlanVersion:
    return make_version(make_plan("llm", "LLM"))


def test_filter_rows_and_grouping_keys_become_lagos_filters(admin_client, draft):
    # given a default of 0.001 per token grouped by model, eu at 0.01, us+gpu at 0.05 by model
    tokens = make_metric("llm_tokens", aggregation="sum", field_name="tokens")
    form = _form(
        draft,
        tokens,
        amount="0.001",
        grouped_by="model",
        **_filter_rows(
            ("region = eu", "EU tokens", {"amount": "0.01"}, ""),
            ("region = us; tier = gpu, tpu", "", {"amount": "0.05"}, "model"),
            ("", "", {}, ""),  # the blank row the page offers
        ),
    )
    # when
    response = admin_client.post(ADD_URL, form)
    # then
    assert response.status_code == 302
    charge = Charge.objects.get(version=draft)
    assert charge.properties == {"amount": "0.001", "grouped_by": ["model"]}
    assert charge.filters == [
        {
            "values": {"region": ["eu"]},
            "properties": {"amount": "0.01"},
            "invoice_display_name": "EU tokens",
        },
        {
            "values": {"region": ["us"], "tier": ["gpu", "tpu"]},
            "properties": {"amount": "0.05", "grouped_by": ["model"]},
            "invoice_display_name": "",
        },
    ]


def test_a_filtered_charge_may_leave_the_default_price_empty(admin_client, draft):
    # given
    tokens = make_metric("llm_tokens", aggregation="sum", field_name="tokens")
    form = _form(draft, tokens, **_filter_rows(("region = eu", "", {"amount": "0.01"}, "")))
    # when
    admin_client.post(ADD_URL, form)
    # then
    assert Charge.objects.get(version=draft).properties == {}


def test_a_filter_price_error_is_shown_on_its_row(admin_client, draft):
    # given a filter without its amount
    tokens = make_metric("llm_tokens", aggregation="sum", field_name="tokens")
    form = _form(draft, tokens, amount="1", **_filter_rows(("region = eu", "", {}, "")))
    # when
    response = admin_client.post(ADD_URL, form)
    # then
    assert response.status_code == 200
    assert "Filter 1: Amount is required." in response.content.decode()
    assert not Charge.objects.exists()


def test_a_filter_priced_with_tier_rows_becomes_its_graduated_ranges(admin_client, draft):
    # given a graduated charge whose eu filter has its own two tier rows
    tokens = make_metric("llm_tokens", aggregation="sum", field_name="tokens")
    eu_tiers = tier_rows(("0", "1000", "0", ""), ("1001", "", "0.02", "5"))
    form = _form(
        draft,
        tokens,
        charge_model="graduated",
        **tier_rows(("0", "", "0.01", "")),
        **_filter_rows(("region = eu", "EU tokens", eu_tiers, "")),
    )
    # when
    response = admin_client.post(ADD_URL, form)
    # then the filter's rows are Lago's graduated_ranges, like the default's
    assert response.status_code == 302
    charge = Charge.objects.get(version=draft)
    assert charge.properties == {
        "graduated_ranges": [
            {"from_value": 0, "to_value": None, "per_unit_amount": "0.01", "flat_amount": "0"}
        ]
    }
    assert charge.filters == [
        {
            "values": {"region": ["eu"]},
            "properties": {
                "graduated_ranges": [
                    {"from_value": 0, "to_value": 1000, "per_unit_amount": "0", "flat_amount": "0"},
                    {
                        "from_value": 1001,
                        "to_value": None,
                        "per_unit_amount": "0.02",
                        "flat_amount": "5",
                    },
                ]
            },
            "invoice_display_name": "EU tokens",
        }
    ]


def test_a_package_charge_cannot_be_prorated(admin_client, draft):
    # given a recurring seat metric and a prorated package charge
    seats = make_metric("seats", aggregation="unique_count", field_name="user_id", recurring=True)
    form = _form(draft, seats, charge_model="package", amount="10", package_size="5", prorated="on")
    # when
    response = admin_client.post(ADD_URL, form)
    # then
    assert response.status_code == 200
    assert (
        "A package charge cannot be prorated; only standard, graduated, volume charges can "
        "(as in Lago)." in response.content.decode()
    )
    assert not Charge.objects.exists()


def test_a_published_charge_shows_its_filters_and_groups_read_only(admin_client, draft):
    # given
    tokens = make_metric("llm_tokens", aggregation="sum", field_name="tokens")
    charge = charge_create(
        version=draft,
        metric=tokens,
        charge_model="standard",
        properties={"amount": "0.001", "grouped_by": ["model"]},
        filters=[
            {"values": {"region": ["eu"]}, "properties": {"amount": "0.01"}},
            {
                "values": {"region": ["us"], "tier": ["gpu"]},
                "properties": {"amount": "0.05"},
                "invoice_display_name": "US GPU",
            },
        ],
    )
    plan_version_publish(version=draft)
    # when
    response = admin_client.get(reverse("admin:plans_charge_change", args=[charge.pk]))
    # then the more specific filter is listed (and tried) first
    html = " ".join(response.content.decode().split())
    assert "Priced separately per model." in html
    assert (
        "<tr><td>1</td><td>region: us · tier: gpu</td><td>US GPU</td><td>$0.05 per unit</td>"
        "</tr><tr><td>2</td><td>region: eu</td><td>—</td><td>$0.01 per unit</td></tr>" in html
    )
    assert 'name="filters-0-values"' not in html


def test_compare_shows_changes_by_filter(admin_client, draft):
    # given v2 raises the eu filter's price
    tokens = make_metric("llm_tokens", aggregation="sum", field_name="tokens")
    charge_create(
        version=draft,
        metric=tokens,
        charge_model="standard",
        properties={"amount": "0.001"},
        filters=[{"values": {"region": ["eu"]}, "properties": {"amount": "0.01"}}],
    )
    v1 = plan_version_publish(version=draft)
    v2 = plan_version_create_draft_from(version=v1)
    Charge.objects.filter(version=v2).update(
        filters=[{"values": {"region": ["eu"]}, "properties": {"amount": "0.02"}}]
    )
    # when
    url = reverse("admin:plans_planversion_compare", args=[v2.pk])
    response = admin_client.get(f"{url}?with={v1.pk}")
    # then
    html = " ".join(response.content.decode().split())
    assert "Filter region: eu: price" in html
    assert '<td class="plans-diff-old">0.01</td><td class="plans-diff-new">0.02</td>' in html


def test_each_filter_row_shows_its_own_example(admin_client, draft):
    # given a draft charge with an eu filter at 0.01 per token
    tokens = make_metric("llm_tokens", aggregation="sum", field_name="tokens")
    charge = charge_create(
        version=draft,
        metric=tokens,
        charge_model="standard",
        properties={"amount": "0.001"},
        filters=[{"values": {"region": ["eu"]}, "properties": {"amount": "0.01"}}],
    )
    # when
    response = admin_client.get(reverse("admin:plans_charge_change", args=[charge.pk]))
    # then the row is editable and prices the example units with its own price
    html = response.content.decode()
    assert 'value="region = eu"' in html
    assert '<input type="text" name="filters-0-price-amount" value="0.01"' in html
    assert (
        '<output class="example-sentence filter-example" aria-live="polite">'
        "1,500 units cost $15.00</output>"
    ) in html


def test_the_add_page_offers_a_filter_row_grouping_keys_and_proration(admin_client, draft):
    # when
    response = admin_client.get(f"{ADD_URL}?version={draft.pk}")
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="filters-TOTAL_FORMS" value="1"' in html
    assert 'name="filters-0-values"' in html
    assert 'name="grouped_by"' in html
    assert 'name="prorated"' in html
