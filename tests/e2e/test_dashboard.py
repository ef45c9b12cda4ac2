"""The dashboard in a real browser: an operator logs in, reads the figures, and follows one to
the list behind it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.selectors.periods import month_start
from metering.services import usage_events_ingest
from tests.dashboard.factories import invoice, subscription
from tests.plans.factories import make_metric


@pytest.mark.django_db(transaction=True)
def test_operator_reads_the_dashboard_and_follows_a_figure_to_its_list(
    page, live_server, operator, screenshot
):
    # given this month's invoices and a few events just received
    now = timezone.now()
    issued = max(month_start(now), now - timedelta(hours=1))
    acme = subscription("acme", name="Acme Corp")
    invoice(acme, "100.00", status="paid", issued_at=issued, events=12_000)
    invoice(acme, "10.25", status="draft", issued_at=issued, period_end=issued - timedelta(days=31))
    make_metric("api-calls")
    usage_events_ingest(
        events=[
            {"transaction_id": f"t{n}", "customer_id": "acme", "code": "api-calls"}
            for n in range(3)
        ]
    )

    # when the operator logs in, the landing page is the dashboard
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", "correct horse battery")
    page.click("input[type=submit]")
    page.wait_for_selector("#dashboard")

    # then the figures are there
    revenue = page.inner_text("[data-figure=revenue]")
    assert "Paid (1)\t$100.00" in revenue
    assert "Draft (1)\t$10.25" in revenue
    assert "Acme Corp\t12,000 events" in page.inner_text("[data-figure=top-usage]")
    assert page.inner_text("[data-figure=events] .dashboard-figure") == "3"
    assert page.locator("[data-figure=mrr] svg rect").count() == 12
    screenshot(page, "dashboard")

    # when the draft amount is followed
    page.click("[data-figure=revenue] >> text=$10.25")

    # then the invoice list shows that draft alone
    page.wait_for_selector("#result_list")
    assert "/admin/invoices/invoice/" in page.url
    assert "status__exact=draft" in page.url
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert "$10.25" in rows.first.inner_text()
