from decimal import Decimal

import pytest
from django.urls import reverse

from billing_site.core.models import AuditLogEntry
from plans.models import Charge, PlanVersion
from plans.services import charge_create, plan_version_update
from tests.plans.admin.conftest import form_data
from tests.plans.factories import make_metric

pytestmark = pytest.mark.django_db

BAD_TIERS = {
    "graduated_ranges": [
        {"from_value": 0, "to_value": 1000, "per_unit_amount": "0", "flat_amount": "0"},
        {"from_value": 1500, "to_value": None, "per_unit_amount": "0.01", "flat_amount": "0"},
    ]
}


def _url(name: str, version: PlanVersion) -> str:
    return reverse(f"admin:plans_planversion_{name}", args=[version.pk])


def test_draft_change_page_saves_through_the_service(admin_client, starter_draft):
    # given
    page = admin_client.get(_url("change", starter_draft))
    data = form_data(page, "planversion_form") | {"base_fee": "21.50", "trial_days": "14"}
    # when
    response = admin_client.post(_url("change", starter_draft), data)
    # then
    assert response.status_code == 302
    starter_draft.refresh_from_db()
    assert (starter_draft.base_fee, starter_draft.trial_days) == (Decimal("21.5000"), 14)
    audit = AuditLogEntry.objects.get(action="plan_version.updated")
    assert audit.changes["base_fee"] == {"old": "19.0000", "new": "21.50"}
    assert audit.actor_label == "admin"


def test_published_version_page_is_read_only_and_a_post_changes_nothing(admin_client, starter_v1):
    # given
    page = admin_client.get(_url("change", starter_v1))
    html = page.content.decode()
    assert 'name="base_fee"' not in html
    assert 'name="_save"' not in html
    assert "This version is <strong>published</strong>" in html
    data = form_data(page, "planversion_form") | {"base_fee": "1.00", "currency": "EUR"}
    # when
    admin_client.post(_url("change", starter_v1), data)
    # then
    starter_v1.refresh_from_db()
    assert (starter_v1.base_fee, starter_v1.currency) == (Decimal("19.0000"), "USD")
    assert starter_v1.charges.get().properties["graduated_ranges"][1]["per_unit_amount"] == "0.01"
    assert not AuditLogEntry.objects.filter(action="plan_version.updated").exists()


def test_published_version_cannot_be_deleted(admin_client, starter_v1):
    # when
    response = admin_client.post(_url("delete", starter_v1), {"post": "yes"})
    # then
    assert response.status_code == 403
    assert PlanVersion.objects.filter(pk=starter_v1.pk).exists()


def test_publish_asks_for_confirmation_listing_what_freezes(admin_client, starter_draft):
    # when
    page = admin_client.get(_url("publish", starter_draft))
    # then
    html = page.content.decode()
    assert "freezes everything below" in html
    assert "api_calls" in html
    assert "1,500 units cost $5.00" in html
    assert 'value="Yes, publish version 1"' in html
    starter_draft.refresh_from_db()
    assert starter_draft.status == PlanVersion.Status.DRAFT


def test_confirmed_publish_freezes_the_version_and_records_who(admin_client, starter_draft):
    # when
    response = admin_client.post(_url("publish", starter_draft), follow=True)
    # then
    starter_draft.refresh_from_db()
    assert starter_draft.status == PlanVersion.Status.PUBLISHED
    assert starter_draft.published_by.username == "admin"
    assert response.redirect_chain[-1][0] == _url("change", starter_draft)
    assert "is published" in response.content.decode()


def test_invalid_version_is_refused_with_the_messages(admin_client, starter_draft):
    # given: a charge written before the validator knew better (bypassing the service)
    Charge.objects.filter(version=starter_draft).update(properties=BAD_TIERS)
    # when
    page = admin_client.get(_url("publish", starter_draft))
    response = admin_client.post(_url("publish", starter_draft))
    # then
    html = page.content.decode()
    assert "cannot be published yet" in html
    assert "Tier 2 must start at 1000 or 1001" in html
    assert "Yes, publish" not in html
    assert "Tier 2 must start at 1000 or 1001" in response.content.decode()
    starter_draft.refresh_from_db()
    assert starter_draft.status == PlanVersion.Status.DRAFT


def test_new_draft_from_a_version_copies_its_charges_and_opens_it(admin_client, starter_v1):
    # when
    response = admin_client.post(_url("draft_from", starter_v1))
    # then
    draft = PlanVersion.objects.get(plan=starter_v1.plan, number=2)
    assert response.status_code == 302
    assert response["Location"] == _url("change", draft)
    assert draft.status == PlanVersion.Status.DRAFT
    assert list(draft.charges.values_list("metric__code", "charge_model", "properties")) == [
        ("api_calls", "graduated", starter_v1.charges.get().properties)
    ]


def test_new_draft_when_one_exists_leads_to_the_existing_draft(admin_client, starter_v1):
    # given
    admin_client.post(_url("draft_from", starter_v1))
    draft = PlanVersion.objects.get(plan=starter_v1.plan, status="draft")
    # when
    response = admin_client.post(_url("draft_from", starter_v1), follow=True)
    # then
    assert response.redirect_chain[-1][0] == _url("change", draft)
    assert "already has a draft" in response.content.decode()
    assert PlanVersion.objects.filter(plan=starter_v1.plan).count() == 2


def test_compare_shows_changed_fields_and_charges_side_by_side(admin_client, starter_v1):
    # given: v2 costs more, changes the overage price and adds a charge
    admin_client.post(_url("draft_from", starter_v1))
    v2 = PlanVersion.objects.get(plan=starter_v1.plan, number=2)
    plan_version_update(version=v2, data={"base_fee": Decimal("29.00")})
    charge = v2.charges.get()
    tiers = charge.properties["graduated_ranges"]
    tiers[1]["per_unit_amount"] = "0.008"
    Charge.objects.filter(pk=charge.pk).update(properties={"graduated_ranges": tiers})
    charge_create(
        version=v2,
        metric=make_metric("llm_tokens"),
        charge_model="standard",
        properties={"amount": "0.000002"},
    )
    # when
    response = admin_client.get(_url("compare", v2) + f"?with={starter_v1.pk}")
    # then
    html = " ".join(response.content.decode().split())
    assert (
        '<tr class="plans-diff-changed"><th>Base fee</th><td>$19.00</td><td>$29.00</td></tr>'
        in html
    )
    assert (
        '<td class="plans-diff-path">Tier 2 price per unit</td>'
        '<td class="plans-diff-old">0.01</td><td class="plans-diff-new">0.008</td>'
    ) in html
    assert 'class="plans-diff-added"><th>llm_tokens' in html


def test_archive_needs_a_reason_then_withdraws_the_version(admin_client, starter_v1):
    # when
    refused = admin_client.post(_url("archive", starter_v1), {"reason": ""})
    starter_v1.refresh_from_db()
    status_after_refusal = starter_v1.status
    admin_client.post(_url("archive", starter_v1), {"reason": "replaced by v2"})
    # then
    assert "Give a reason" in refused.content.decode()
    assert status_after_refusal == PlanVersion.Status.PUBLISHED
    starter_v1.refresh_from_db()
    assert starter_v1.status == PlanVersion.Status.ARCHIVED
    assert AuditLogEntry.objects.get(action="plan_version.archived").reason == "replaced by v2"


def test_version_changelist_queries_do_not_grow_with_rows(
    admin_client, starter_v1, django_assert_max_num_queries
):
    # given
    for _ in range(5):
        admin_client.post(
            _url("draft_from", PlanVersion.objects.filter(status="draft").first() or starter_v1)
        )
        draft = PlanVersion.objects.get(status="draft")
        admin_client.post(_url("publish", draft))
    # when / then
    with django_assert_max_num_queries(8):
        response = admin_client.get(reverse("admin:plans_planversion_changelist"))
    assert response.content.decode().count('class="field-number"') == 6
