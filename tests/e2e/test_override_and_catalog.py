"""Journeys: finance applies a discount override and sees the amount change; the plans list
reads as sentences."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from plans.models import SubscriptionOverride
from tests.invoices.factories import plan_version, send_tokens, subscribe


@pytest.mark.django_db(transaction=True)
def test_finance_adds_a_discount_override_and_sees_the_amount_change(
    logged_in_page, live_server, screenshot
):
    page = logged_in_page
    # given: $49.00 a month plus tokens (0–1,000 at $0.02, then $0.01); 2,000 tokens used
    now = timezone.now()
    subscription = subscribe(
        plan_version(), started_at=now - timedelta(days=2), external_id="sub-acme"
    )
    send_tokens("acme", 2000, at=now - timedelta(hours=1))
    page.goto(f"{live_server.url}/admin/plans/subscription/{subscription.pk}/change/")
    running = page.locator(".field-running_period")
    expect(running).to_contain_text("$79.00")

    # when: finance opens the override form, prices tokens in the tier editor and halves it
    page.click("#add-override")
    page.check("input[name=kind][value=charge]")
    page.select_option("#id_charge", label="Tokens (tokens)")
    page.select_option("#id_charge_model", "graduated")
    page.fill("#id_tiers-0-from_value", "0")
    page.fill("#id_tiers-0-to_value", "1000")
    page.fill("#id_tiers-0-per_unit_amount", "0")
    page.fill("#id_tiers-1-from_value", "1001")
    page.fill("#id_tiers-1-per_unit_amount", "0.02")
    page.fill("#id_discount_percent", "50")
    page.fill("#id_example_units", "2000")
    # then: the live example prices it with the server's pricing
    expect(page.locator("#example-sentence")).to_have_text("2,000 units cost $10.00 after 50% off")
    screenshot(page, "tier-editor")

    # when: it is saved for a window given with its time zone
    page.fill("#id_valid_until", "2027-01-30 00:00 +01:00")
    page.fill("#id_reason", "Pilot discount")
    page.click("input[name=_save]")

    # then: back on the subscription, the override reads as a sentence and the amount changed
    expect(page.locator(".messagelist")).to_contain_text("The override was added.")
    expect(page.locator("#content")).to_contain_text(
        "Tokens: 0–1,000 free, then $0.02 per unit, 50% off until 2027-01-29 23:00 UTC"
    )
    expect(running).to_contain_text("$59.00")
    override = SubscriptionOverride.objects.get(subscription=subscription)
    assert override.value["discount_percent"] == "50"


@pytest.mark.django_db(transaction=True)
def test_finance_reads_an_override_refusal_as_a_form_message(logged_in_page, live_server):
    page = logged_in_page
    # given
    subscription = subscribe(
        plan_version(), started_at=timezone.now() - timedelta(days=2), external_id="sub-acme"
    )
    page.goto(f"{live_server.url}/admin/plans/subscription/{subscription.pk}/overrides/add/")
    # when: a base fee discount whose window ends before it starts
    page.check("input[name=kind][value=base_fee]")
    page.fill("#id_discount_percent", "10")
    page.fill("#id_valid_from", "2027-02-01 00:00")
    page.fill("#id_valid_until", "2027-01-01 00:00")
    page.fill("#id_reason", "Typo")
    page.click("input[name=_save]")
    # then
    expect(page.locator(".field-valid_until .errorlist")).to_have_text(
        "The override would end before it starts: choose an end after 2027-02-01 UTC."
    )
    assert not SubscriptionOverride.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_plans_list_reads_as_sentences(logged_in_page, live_server, screenshot):
    page = logged_in_page
    # given
    plan_version("pro")
    plan_version(
        "starter",
        base_fee="500",
        currency="JPY",
        charges={"tokens": ("standard", {"amount": "2", "free_units": 100})},
    )
    # when
    page.goto(f"{live_server.url}/admin/plans/plan/")
    # then
    prices = page.locator("td.field-price")
    expect(prices).to_have_count(2)
    expect(prices.nth(0)).to_have_text(
        "v1: $49.00 a month (USD), paid in arrears; Tokens: 0–1,000 $0.02 per unit, "
        "then $0.01 per unit up to 10,000, then $0.005 per unit"
    )
    expect(prices.nth(1)).to_have_text(
        "v1: ¥500 a month (JPY), paid in arrears; Tokens: ¥2 per unit, first 100 free"
    )
    screenshot(page, "plans-list")
