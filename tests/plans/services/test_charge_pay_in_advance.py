"""Charge.pay_in_advance in the catalog: allowed where each event can be priced as it
arrives, refused with the reason elsewhere, copied to a new draft, shown by the API."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from plans.models import Charge
from plans.services import (
    charge_create,
    plan_version_create_draft_from,
    plan_version_publish,
    subscription_override_create,
)
from tests.plans.admin.conftest import tier_rows
from tests.plans.factories import (
    make_customer,
    make_metric,
    make_plan,
    make_subscription,
    make_version,
)

pytestmark = pytest.mark.django_db

VOLUME = {
    "volume_ranges": [
        {"from_value": 0, "to_value": 100, "per_unit_amount": "1", "flat_amount": "0"},
        {"from_value": 101, "to_value": None, "per_unit_amount": "0.5", "flat_amount": "0"},
    ]
}


@pytest.mark.parametrize(
    ("metric_fields", "model", "properties", "message"),
    [
        (
            {"aggregation": "count"},
            "volume",
            VOLUME,
            "A volume charge cannot be paid in advance; only standard, package, graduated "
            "charges can (an event's price must not lower the price of the events before it).",
        ),
        (
            {"aggregation": "max", "field_name": "gb"},
            "standard",
            {"amount": "1"},
            "Only a charge on a count, sum or unique_count metric that is not recurring can be "
            "paid in advance.",
        ),
        (
            {"aggregation": "count"},
            "standard",
            {"amount": "1", "grouped_by": ["region"]},
            "A charge with filters or pricing groups cannot be paid in advance.",
        ),
    ],
)
def test_a_charge_that_cannot_be_priced_per_event_is_refused(
    metric_fields, model, properties, message
):
    metric = make_metric("usage", **metric_fields)
    with pytest.raises(ValidationError) as error:
        charge_create(
            version=make_version(),
            metric=metric,
            charge_model=model,
            properties=properties,
            pay_in_advance=True,
        )
    assert error.value.message_dict == {"pay_in_advance": [message]}
    assert not Charge.objects.exists()


def test_the_flag_is_frozen_with_the_version_and_copied_to_its_next_draft():
    version = make_version(make_plan("pro"))
    charge_create(
        version=version,
        metric=make_metric("calls"),
        charge_model="standard",
        properties={"amount": "0.1"},
        pay_in_advance=True,
    )
    published = plan_version_publish(version=version)

    draft = plan_version_create_draft_from(version=published)

    assert list(draft.charges.values_list("pay_in_advance", flat=True)) == [True]


def test_the_plan_api_shows_a_charge_paid_in_advance(authed_client):
    version = make_version(make_plan("pro"))
    charge_create(
        version=version,
        metric=make_metric("calls"),
        charge_model="standard",
        properties={"amount": "0.1"},
        pay_in_advance=True,
    )
    plan_version_publish(version=version)

    body = authed_client.get("/api/v1/plans/pro").json()

    assert [(c["metric"], c["pay_in_advance"]) for c in body["charges"]] == [("calls", True)]


def test_the_charge_admin_form_sets_the_flag(admin_client):
    # given a draft and a count metric
    version = make_version(make_plan("pro"))
    calls = make_metric("calls")
    form = {
        "version": str(version.pk),
        "metric": str(calls.pk),
        "charge_model": "standard",
        "invoice_display_name": "Calls",
        "min_amount": "",
        "amount": "0.10",
        "pay_in_advance": "on",
        **tier_rows(),
    }
    # when the add form is posted with "paid in advance" ticked
    response = admin_client.post(reverse("admin:plans_charge_add"), form)
    # then the charge is paid in advance
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Charge.objects.get().pay_in_advance is True


def test_an_override_cannot_give_a_charge_paid_in_advance_a_volume_price():
    version = make_version(make_plan("pro"))
    charge = charge_create(
        version=version,
        metric=make_metric("calls"),
        charge_model="standard",
        properties={"amount": "0.1"},
        pay_in_advance=True,
    )
    subscription = make_subscription(plan_version_publish(version=version), make_customer())

    with pytest.raises(ValidationError) as error:
        subscription_override_create(
            subscription=subscription,
            kind="charge",
            charge=charge,
            value={"charge_model": "volume", "properties": VOLUME},
            reason="negotiated",
        )

    assert error.value.message_dict == {
        "value.charge_model": [
            "The charge is paid in advance, which a volume price cannot be (only standard, "
            "package, graduated)."
        ]
    }
