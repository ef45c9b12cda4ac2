import pytest
from playwright.sync_api import expect

from metering.models import Aggregation, BillableMetric
from plans.models import PlanVersion


@pytest.mark.django_db(transaction=True)
def test_operator_builds_a_graduated_plan_publishes_it_redrafts_it_and_compares(
    logged_in_page, live_server
):
    page = logged_in_page
    metric = BillableMetric.objects.create(
        code="api_calls", name="API calls", aggregation=Aggregation.COUNT
    )
    # given: a new plan, which opens its first draft
    page.goto(f"{live_server.url}/admin/plans/plan/add/")
    page.fill("#id_code", "starter")
    page.fill("#id_name", "Starter")
    page.fill("#id_base_fee", "19.00")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("created with draft version 1")

    # when: a graduated charge is entered as tier rows
    page.locator(".object-tools a", has_text="Add charge").click()
    page.select_option("#id_metric", str(metric.pk))
    page.check("input[name=charge_model][value=graduated]")
    expect(page.locator("#charge-tiers")).to_be_visible()
    expect(page.locator("fieldset.plans-charge-properties .field-amount")).to_be_hidden()
    page.fill("#id_tiers-0-to_value", "1000")
    page.fill("#id_tiers-0-per_unit_amount", "0")
    page.fill("#id_tiers-1-from_value", "1001")
    page.fill("#id_tiers-1-per_unit_amount", "0.01")
    # then: the live example follows the typing
    expect(page.locator("#example-sentence")).to_have_text("1,500 units cost $5.00")
    # when: a third tier is added and the example asked for more units
    page.fill("#id_tiers-1-to_value", "10000")
    page.click("#add-tier")
    expect(page.locator("#id_tiers-2-from_value")).to_have_value("10001")
    page.fill("#id_tiers-2-per_unit_amount", "0.005")
    page.fill("#id_example_units", "20000")
    # then
    expect(page.locator("#example-sentence")).to_have_text("20,000 units cost $140.00")
    expect(page.locator("#example-breakdown tbody tr")).to_have_count(3)

    # when: saved, the version page lists it; then it is published after confirmation
    page.click("input[name=_save]")
    charges = page.locator(".inline-group", has_text="Charges")
    expect(charges).to_contain_text("1,500 units cost $5.00")
    expect(charges.locator("table.plans-tiers tbody tr")).to_have_count(3)
    page.locator(".object-tools a", has_text="Publish").click()
    expect(page.locator("#content")).to_contain_text("freezes everything below")
    page.click("input[value='Yes, publish version 1']")
    expect(page.locator(".messagelist")).to_contain_text("is published")
    expect(page.locator("input[name=_save]")).to_have_count(0)

    # when: a new draft is made from it and its base fee raised
    page.click("text=New draft from this version")
    expect(page.locator(".messagelist")).to_contain_text("Draft version 2")
    page.fill("#id_base_fee", "24.00")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("changed successfully")

    # then: the comparison shows what changed, old and new
    page.locator(".object-tools a", has_text="Compare with").click()
    changed = page.locator("#diff-fields tr.plans-diff-changed")
    expect(changed).to_have_count(1)
    expect(changed).to_contain_text("Base fee")
    expect(changed).to_contain_text("$19.00")
    expect(changed).to_contain_text("$24.00")
    expect(page.locator("#content")).to_contain_text("Unchanged: api_calls")
    versions = PlanVersion.objects.filter(plan__code="starter").order_by("number")
    assert [(v.number, v.status) for v in versions] == [(1, "published"), (2, "draft")]
