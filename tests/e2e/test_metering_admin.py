import pytest

from metering.models import BillableMetric


@pytest.mark.django_db(transaction=True)
def test_operator_creates_a_billable_metric_and_finds_it_in_the_list(logged_in_page, live_server):
    page = logged_in_page
    # given
    page.goto(f"{live_server.url}/admin/metering/billablemetric/add/")
    # when: a sum metric is submitted without its property first
    page.fill("#id_code", "llm_tokens")
    page.fill("#id_name", "LLM tokens")
    page.select_option("#id_aggregation", "sum")
    page.click("input[name=_save]")
    # then: the error stands beside the property field
    assert "needs the property it reads" in page.inner_text(".field-field_name")
    # when: completed and saved
    page.fill("#id_field_name", "tokens")
    page.fill("#id_filters", '{"model": ["gpt-4o", "gpt-4o-mini"]}')
    page.select_option("#id_rounding", "ceil")
    page.click("input[name=_save]")
    # then: listed with its summary
    page.wait_for_selector("#result_list")
    assert "was added successfully" in page.inner_text(".messagelist")
    row = page.locator("#result_list tbody tr", has_text="llm_tokens")
    assert row.count() == 1
    assert "model ∈ gpt-4o, gpt-4o-mini" in row.inner_text()
    assert "ceil to 0 decimal places" in row.inner_text()
    assert BillableMetric.objects.get(code="llm_tokens").field_name == "tokens"
