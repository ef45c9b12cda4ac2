"""The catalog you can scan: prices in sentences, money in the currency's form, charges edited
on the draft's page, metrics with the plans that use them."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from billing_site.core.models import AuditLogEntry
from plans.models import Charge
from plans.services import charge_update, plan_version_publish
from tests.plans.admin.conftest import form_data
from tests.plans.factories import make_metric, make_plan, make_version

pytestmark = pytest.mark.django_db

STARTER_SENTENCE = (
    "v1: $19.00 a month (USD), paid in arrears; API calls: 0–1,000 free, then $0.01 per unit"
)


def test_the_plans_list_shows_each_price_in_a_sentence(admin_client, starter_v1):
    # given
    make_version(
        make_plan("tokyo", "Tokyo"),
        currency="JPY",
        base_fee=Decimal("500"),
        charges={"llm_tokens": ("standard", {"amount": "2"})},
    )
    # when
    response = admin_client.get(reverse("admin:plans_plan_changelist"))
    # then
    html = response.content.decode()
    assert STARTER_SENTENCE in html
    assert (
        "v1 (draft, not on sale yet): ¥500 a month (JPY), paid in arrears; Llm_Tokens: ¥2 per unit"
    ) in html
    assert "19.0000" not in html


def test_the_plans_list_loads_prices_in_a_fixed_number_of_queries(
    admin_client, starter_v1, django_assert_max_num_queries
):
    # given
    for index in range(8):
        make_version(
            make_plan(f"plan-{index}", f"Plan {index}"),
            charges={make_metric(f"m{index}").code: ("standard", {"amount": "1"})},
            publish=True,
        )
    # when
    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse("admin:plans_plan_changelist"))
    # then
    assert response.context["cl"].result_count == 9


def test_version_lists_show_the_base_fee_as_money(admin_client, starter_v1):
    # when
    versions = admin_client.get(reverse("admin:plans_planversion_changelist"))
    plan = admin_client.get(reverse("admin:plans_plan_change", args=[starter_v1.plan_id]))
    # then
    assert "$19.00 / month" in versions.content.decode()
    assert "$19.00 / month" in plan.content.decode()


def test_a_drafts_charge_is_renamed_in_place_through_the_service(admin_client, starter_draft):
    # given
    url = reverse("admin:plans_planversion_change", args=[starter_draft.pk])
    charge = starter_draft.charges.get()
    data = form_data(admin_client.get(url), "planversion_form")
    data["charges-0-invoice_display_name"] = "API requests"
    data["charges-0-min_amount"] = "5.00"
    # when
    response = admin_client.post(url, data)
    # then
    assert response.status_code == 302
    charge = Charge.objects.get(pk=charge.pk)
    assert (charge.invoice_display_name, charge.min_amount) == ("API requests", Decimal("5.0000"))
    assert AuditLogEntry.objects.filter(action="charge.updated").count() == 1


def test_a_drafts_charge_links_to_its_tier_editor(admin_client, starter_draft):
    # when
    page = admin_client.get(reverse("admin:plans_planversion_change", args=[starter_draft.pk]))
    # then
    html = page.content.decode()
    charge = starter_draft.charges.get()
    assert reverse("admin:plans_charge_change", args=[charge.pk]) in html
    assert "Edit price (tier editor)…" in html
    assert 'name="charges-0-invoice_display_name"' in html


def test_a_published_versions_charges_stay_read_only(admin_client, starter_v1):
    # when
    page = admin_client.get(reverse("admin:plans_planversion_change", args=[starter_v1.pk]))
    # then
    html = page.content.decode()
    assert 'name="charges-0-invoice_display_name"' not in html
    assert "Edit price (tier editor)…" not in html


def test_the_metrics_list_shows_the_plans_using_each_metric(admin_client, starter_v1):
    # given
    make_metric("unused", name="Unused")
    make_version(make_plan("pro", "Pro"), charges={"api_calls": ("standard", {"amount": "1"})})
    # when
    response = admin_client.get(reverse("admin:metering_billablemetric_changelist"))
    # then
    html = response.content.decode()
    changelist = reverse("admin:plans_plan_changelist")
    assert (
        f'<a href="{changelist}?q=pro">pro</a>, <a href="{changelist}?q=starter">starter</a>'
        in html
    )
    assert "no plan" in html


def test_a_charges_minimum_is_money_on_the_charge_list_and_a_published_version(
    admin_client, starter_draft
):
    # given
    charge_update(charge=starter_draft.charges.get(), data={"min_amount": Decimal("5")})
    version = plan_version_publish(version=starter_draft)
    # when
    charges = admin_client.get(reverse("admin:plans_charge_changelist"))
    page = admin_client.get(reverse("admin:plans_planversion_change", args=[version.pk]))
    # then
    for html in (charges.content.decode(), page.content.decode()):
        assert re.search(r'<td class="field-minimum">\s*(<p>)?\$5\.00', html)
        assert "5.0000" not in html
