"""A charge filter's price is edited with the default price's tier rows and live example."""

import pytest
from playwright.sync_api import expect

from plans.models import Charge
from tests.plans.factories import make_metric, make_plan, make_version


@pytest.mark.django_db(transaction=True)
def test_operator_adds_a_filter_with_a_graduated_tier_table_and_sees_its_live_example(
    logged_in_page, live_server
):
    page = logged_in_page
    tokens = make_metric("llm_tokens", name="LLM tokens", aggregation="sum", field_name="tokens")
    draft = make_version(make_plan("llm", "LLM"))
    # given: a graduated charge whose default price is one open tier at 0.01
    page.goto(f"{live_server.url}/admin/plans/charge/add/?version={draft.pk}")
    page.select_option("#id_metric", str(tokens.pk))
    page.check("input[name=charge_model][value=graduated]")
    page.fill("#id_tiers-0-per_unit_amount", "0.01")
    page.locator("#tier-rows tr.tier-row").nth(1).locator("input[name$='-DELETE']").check()
    page.fill("#id_example_units", "1500")
    expect(page.locator("#example-sentence")).to_have_text("1,500 units cost $15.00")

    # when: the first filter (eu) gets its own tier rows, the first 1,000 free
    row = page.locator(".plans-filter").first
    expect(row.locator(".plans-tier-box")).to_be_visible()
    expect(row.locator(".field-amount")).to_be_hidden()
    page.fill("#id_filters-0-values", "region = eu")
    page.fill("#id_filters-0-invoice_display_name", "EU tokens")
    page.fill("#id_filters-0-price-tiers-0-to_value", "1000")
    page.fill("#id_filters-0-price-tiers-0-per_unit_amount", "0")
    page.fill("#id_filters-0-price-tiers-1-from_value", "1001")
    page.fill("#id_filters-0-price-tiers-1-per_unit_amount", "0.02")
    # then: its own live example prices the example units with its tiers (500 × 0.02)
    expect(row.locator(".example-sentence")).to_have_text("1,500 units cost $10.00")
    expect(page.locator("#example-sentence")).to_have_text("1,500 units cost $15.00")

    # when: a third tier is added to the filter with its own button, and more units asked for
    page.fill("#id_filters-0-price-tiers-1-to_value", "10000")
    row.locator("button.add-tier").click()
    expect(page.locator("#id_filters-0-price-tiers-2-from_value")).to_have_value("10001")
    page.fill("#id_filters-0-price-tiers-2-per_unit_amount", "0.005")
    page.fill("#id_example_units", "20000")
    # then: 9,000 × 0.02 + 10,000 × 0.005 = 230.00, three rows in its breakdown
    expect(row.locator(".example-sentence")).to_have_text("20,000 units cost $230.00")
    expect(row.locator(".example-breakdown tbody tr")).to_have_count(3)
    expect(page.locator("#example-sentence")).to_have_text("20,000 units cost $200.00")

    # when saved
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_be_visible()
    # then the filter's rows are stored as Lago's graduated_ranges
    charge = Charge.objects.get(version=draft)
    assert charge.filters == [
        {
            "values": {"region": ["eu"]},
            "properties": {
                "graduated_ranges": [
                    {"from_value": 0, "to_value": 1000, "per_unit_amount": "0", "flat_amount": "0"},
                    {
                        "from_value": 1001,
                        "to_value": 10000,
                        "per_unit_amount": "0.02",
                        "flat_amount": "0",
                    },
                    {
                        "from_value": 10001,
                        "to_value": None,
                        "per_unit_amount": "0.005",
                        "flat_amount": "0",
                    },
                ]
            },
            "invoice_display_name": "EU tokens",
        }
    ]
