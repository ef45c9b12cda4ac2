"""Operator journeys, each a real Chromium session through the admin as finance or ops staff
do their day: build and sell a plan, look a customer up, hand out and take back an API key,
end a subscription, and turn an id that sent events into a customer."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from billing_site.core.models import ApiKey, AuditLogEntry
from invoices.services import subscription_bill_due
from metering.models import Aggregation, BillableMetric, UnknownCustomer
from metering.services import usage_events_ingest
from plans.models import Customer, PlanVersion, Subscription
from tests.invoices.factories import plan_version, send_tokens, subscribe, utc
from tests.plans.factories import make_customer

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery"


@pytest.fixture
def staff_page(page, live_server, django_user_model):
    """Log in as a staff member holding one role (finance or ops)."""

    def login(role: str):
        user = django_user_model.objects.create_user(
            role, f"{role}@example.com", PASSWORD, is_staff=True
        )
        user.groups.add(Group.objects.get(name=role))
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", role)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_selector("#site-name")
        return page

    return login


def _ingest_tokens(customer_id: str, *amounts: int) -> None:
    now = timezone.now()  # after the subscription started, however fast the browser was
    events = [
        {
            "transaction_id": f"journey-{index}",
            "customer_id": customer_id,
            "code": "tokens",
            "timestamp": now.isoformat(),
            "properties": {"tokens": amount},
        }
        for index, amount in enumerate(amounts)
    ]
    assert usage_events_ingest(events=events).accepted == len(amounts)


def _choose_customer(page, search: str, label: str) -> None:
    """Pick a customer in the autocomplete box, as an operator types it."""
    page.click(".field-customer .select2-selection")
    page.fill(".select2-search__field", search)
    page.locator(".select2-results__option", has_text=label).click()


def test_finance_builds_a_graduated_plan_sells_it_and_sees_the_amount_so_far(
    staff_page, live_server, screenshot
):
    page = staff_page("finance")
    metric = BillableMetric.objects.create(
        code="tokens", name="LLM tokens", aggregation=Aggregation.SUM, field_name="tokens"
    )
    make_customer("acme", name="Acme Corp")

    # given: a plan with a graduated charge, 1,000 tokens free then 0.01 each
    page.goto(f"{live_server.url}/admin/plans/plan/add/")
    page.fill("#id_code", "starter")
    page.fill("#id_name", "Starter")
    page.fill("#id_base_fee", "19.00")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("created with draft version 1")
    page.locator(".object-tools a", has_text="Add charge").click()
    page.select_option("#id_metric", str(metric.pk))
    page.check("input[name=charge_model][value=graduated]")
    page.fill("#id_tiers-0-to_value", "1000")
    page.fill("#id_tiers-0-per_unit_amount", "0")
    page.fill("#id_tiers-1-from_value", "1001")
    page.fill("#id_tiers-1-per_unit_amount", "0.01")
    page.click("input[name=_save]")

    # when: it is published after its confirmation
    page.locator(".object-tools a", has_text="Publish").click()
    page.click("input[value='Yes, publish version 1']")
    expect(page.locator(".messagelist")).to_contain_text("is published")
    version = PlanVersion.objects.get(plan__code="starter", number=1)
    assert version.status == PlanVersion.Status.PUBLISHED

    # and Acme is subscribed to it from the subscriptions page
    page.goto(f"{live_server.url}/admin/plans/subscription/add/")
    zone = "getComputedStyle(document.querySelector('.field-started_at p.datetime'), '::after')"
    assert page.evaluate(f"{zone}.content") == '" UTC"'  # the start time says its zone
    _choose_customer(page, "Acme", "Acme Corp")
    page.select_option("#id_version", str(version.pk))
    page.fill("#id_external_id", "sub-acme")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    subscription = Subscription.objects.get(external_id="sub-acme")
    assert (subscription.customer.external_id, subscription.version_id) == ("acme", version.pk)

    # and three events arrive through ingest: 1,500 tokens, 500 of them past the free tier
    _ingest_tokens("acme", 400, 600, 500)

    # then: the customer's page shows the usage so far and what it comes to
    page.goto(f"{live_server.url}/admin/plans/customer/")
    page.fill("#searchbar", "Acme")
    page.press("#searchbar", "Enter")
    page.locator("#result_list a", has_text="Acme Corp").click()
    usage = page.locator("#customer-360 table.c360-usage tbody tr", has_text="tokens")
    expect(usage).to_contain_text("1,500")
    expect(usage.locator("td.num").nth(1)).to_have_text("3")
    running = page.locator(".field-running_period")
    expect(running).to_contain_text("sub-acme")
    expect(running).to_contain_text("$5.00")
    expect(running).to_contain_text("$24.00 so far")  # $19.00 base fee + $5.00 of tokens
    screenshot(page, "customer-page")


def test_ops_finds_a_customer_reads_its_usage_and_events_then_creates_and_revokes_a_key(
    staff_page, live_server
):
    # given: Acme on a plan, with two events this period
    subscribe(plan_version("pro"), "acme", started_at=timezone.now() - timedelta(days=2))
    Customer.objects.filter(external_id="acme").update(name="Acme Corp")
    _ingest_tokens("acme", 1200, 34)
    page = staff_page("ops")

    # when: ops looks Acme up by name
    page.goto(f"{live_server.url}/admin/plans/customer/")
    page.fill("#searchbar", "acme corp")
    page.press("#searchbar", "Enter")
    page.locator("#result_list a", has_text="Acme Corp").click()

    # then: its usage, and from there its events
    usage = page.locator("#customer-360 table.c360-usage tbody tr", has_text="tokens")
    expect(usage).to_contain_text("1,234")
    usage.locator("a", has_text="Events").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    expect(page.locator("#result_list")).to_contain_text("acme")

    # when: ops creates a key for Acme's integration
    page.goto(f"{live_server.url}/admin/core/apikey/add/")
    page.fill("#id_name", "acme integration")
    page.check("input[name=scopes][value='customers:read']")
    page.click("input[name=_save]")
    message = page.locator(".messagelist").inner_text()
    raw_key = re.search(r"(bk_[0-9a-f]{8}_[A-Za-z0-9_\-]+)", message).group(1)
    api = f"{live_server.url}/api/v1/customers/acme"
    headers = {"Authorization": f"Bearer {raw_key}"}
    assert page.request.get(api, headers=headers).status == 200

    # and revokes it from its own page, with a reason
    page.locator("#result_list a", has_text="acme integration").click()
    page.click("#apikey-revoke")
    expect(page.locator("#content")).to_contain_text("will get 401")
    page.fill("#id_reason", "Key pasted in a support ticket")
    page.click("input[type=submit][value='Yes, I’m sure']")
    expect(page.locator(".messagelist")).to_contain_text("Revoke API keys: 1 done.")

    # then: the key no longer works, the list files it under Revoked, the audit log has why
    assert page.request.get(api, headers=headers).status == 401
    page.goto(f"{live_server.url}/admin/core/apikey/")
    page.locator("#changelist-filter a", has_text="Revoked").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text("acme integration")
    key = ApiKey.objects.get(name="acme integration")
    entry = AuditLogEntry.objects.get(action="api_key.revoked", object_id=str(key.pk))
    assert (entry.actor_label, entry.reason) == ("ops", "Key pasted in a support ticket")


def test_finance_reads_the_last_invoice_then_cancels_the_subscription_from_its_page(
    staff_page, live_server, screenshot
):
    # given: Acme billed for January (12,000 tokens), a draft in its grace period
    version = plan_version(invoice_grace_days=3)
    subscription = subscribe(version, started_at=utc(2026, 1, 1), external_id="sub-acme")
    send_tokens("acme", 12000, at=utc(2026, 1, 10))
    (draft,) = subscription_bill_due(subscription_id=subscription.pk, now=utc(2026, 2, 1, 0, 5))
    page = staff_page("finance")

    # when: finance opens the subscription and its latest invoice
    page.goto(f"{live_server.url}/admin/plans/subscription/{subscription.pk}/change/")
    page.locator(".field-recent_invoices a", has_text=f"Draft #{draft.pk}").click()

    # then: the invoice's lines and total, in the currency's own form
    expect(page.locator(".field-total_text")).to_contain_text("$169.00")
    expect(page.locator("#lines-group")).to_contain_text("0 – 1,000: 1,000 × 0.02 = 20")
    screenshot(page, "invoice")

    # when: back on the subscription, it is cancelled now, with a reason
    page.go_back()
    page.click("#subscription-cancel-now")
    expect(page.locator("#content")).to_contain_text("They end NOW")
    page.fill("#id_reason", "Customer closed their account")
    page.click("input[type=submit][value='Yes, I’m sure']")

    # then: back on its page, ended, with nothing left to cancel
    expect(page.locator(".messagelist")).to_contain_text("Cancel now: 1 done.")
    expect(page.locator(".field-status")).to_contain_text("Canceled")
    expect(page.locator("#subscription-cancel-now")).to_have_count(0)
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.CANCELED
    entry = AuditLogEntry.objects.get(action="subscription.canceled")
    assert (entry.actor_label, entry.reason) == ("finance", "Customer closed their account")


def test_ops_turns_an_unknown_customer_id_into_a_customer(staff_page, live_server):
    # given: events from an id no customer has yet
    BillableMetric.objects.create(
        code="tokens", name="LLM tokens", aggregation=Aggregation.SUM, field_name="tokens"
    )
    _ingest_tokens("newco-42", 10, 20)
    assert UnknownCustomer.objects.get(customer_id="newco-42").event_count == 2
    page = staff_page("ops")

    # when: ops opens the unknown customers list and creates the customer from it
    page.goto(f"{live_server.url}/admin/metering/unknowncustomer/")
    row = page.locator("#result_list tbody tr", has_text="newco-42")
    row.locator("a", has_text="Create customer…").click()
    expect(page.locator("#id_external_id")).to_have_value("newco-42")
    page.fill("#id_name", "NewCo")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    # then: the customer exists and the id is no longer unknown
    assert Customer.objects.get(external_id="newco-42").name == "NewCo"
    page.goto(f"{live_server.url}/admin/metering/unknowncustomer/")
    expect(page.locator("#result_list tbody tr", has_text="newco-42")).to_have_count(0)


def test_ops_finds_the_screens_by_task_and_totals_a_customers_events(staff_page, live_server):
    # given: Acme on a plan, with two token events this period
    subscribe(plan_version("pro"), "acme", started_at=timezone.now() - timedelta(days=2))
    _ingest_tokens("acme", 1200, 34)
    page = staff_page("ops")

    # then: the home page lists screens by task, internals only for superusers, and the site
    # link goes to the API docs
    captions = page.locator("#content-main .module caption").all_inner_texts()
    assert [c.strip().lower() for c in captions if c.strip()][:5] == [
        "customers",
        "catalog",
        "usage",
        "billing",
        "developers",
    ]
    assert "internals" not in " ".join(captions).lower()
    assert page.locator("#user-tools a", has_text="API docs").get_attribute("href") == "/api/docs/"

    # when: ops asks the event browser how much Acme used
    page.goto(f"{live_server.url}/admin/metering/event/?q=acme&code=tokens")

    # then: the total of the selection, grouped, from the usage selector
    expect(page.locator("#event-totals .usage-quantity")).to_have_text("1,234")
    expect(page.locator("#event-totals .usage-events")).to_have_text("2")

    # and the selection downloads as CSV
    with page.expect_download() as download:
        page.locator("#event-totals a", has_text="Export this selection as CSV").click()
    lines = open(download.value.path(), encoding="utf-8").read().strip().splitlines()
    assert len(lines) == 3  # a header and the two events
