from decimal import Decimal

import pytest

from entitlements.services import entitlement_consume
from tests.entitlements.factories import grant, subscribe


@pytest.mark.django_db(transaction=True)
def test_operator_sees_usage_bars_and_balances_and_grants_credits(logged_in_page, live_server):
    page = logged_in_page
    # given: 95 of 100 calls used, 20 credits
    customer, _, feature = subscribe(limit=Decimal(100))
    grant(customer, feature, "20", reason="Welcome credits")
    entitlement_consume(
        customer=customer, feature="api-calls", quantity=Decimal(95), transaction_id="a"
    )
    # when
    page.goto(f"{live_server.url}/admin/plans/customer/{customer.pk}/change/")
    # then: the feature's bar and the balance
    row = page.locator('#customer-360 tr[data-feature="api-calls"]')
    assert "95 / 100" in row.inner_text()
    assert row.locator(".c360-fill").get_attribute("class") == "c360-fill c360-warn"  # 95 of 120
    assert page.inner_text("#credit-balance") == "20"
    # when: credits are granted through the form and confirmed
    page.click("#grant-credits")
    page.select_option("#id_feature", label=str(feature))
    page.fill("#id_amount", "500")
    page.fill("#id_reason", "Enterprise trial")
    page.click("input[type=submit]")
    assert "Grant 500 units of api-calls" in page.inner_text("#grant-form")
    page.click("input[value='Yes, grant these credits']")
    # then: back on the customer's page with the new balance and a calmer bar
    page.wait_for_selector("#customer-360")
    assert "Granted 500 api-calls credits" in page.inner_text(".messagelist")
    assert page.inner_text("#credit-balance") == "520"
    assert "Enterprise trial" in page.inner_text("#customer-360")
    row = page.locator('#customer-360 tr[data-feature="api-calls"]')
    assert row.locator(".c360-fill").get_attribute("class") == "c360-fill c360-ok"
