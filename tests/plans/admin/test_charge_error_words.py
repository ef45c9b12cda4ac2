import pytest
from django.urls import reverse

from plans.models import Charge
from tests.plans.admin.conftest import tier_rows
from tests.plans.factories import make_metric

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:plans_charge_add")


def test_tier_and_fee_errors_name_fields_by_their_labels_all_at_once(admin_client, starter_draft):
    # given: a negative price in tier 1, a gap before tier 2, and a percentage charge's bounds
    metric = make_metric("exports")
    data = {
        "version": str(starter_draft.pk),
        "metric": str(metric.pk),
        "charge_model": "graduated",
        "invoice_display_name": "",
        "min_amount": "",
        **tier_rows(("0", "10", "-1", ""), ("12", "", "0.5", "")),
    }
    # when
    response = admin_client.post(ADD_URL, data)
    # then: both problems at once, in the words of the tier editor, no Lago key shown
    errors = response.context["adminform"].form.non_field_errors()
    assert "Tier 1 per unit must not be negative; got -1." in errors
    assert any(error.startswith("Tier 2 must start at 10 or 11") for error in errors)
    page = response.content.decode()
    assert "per_unit_amount must" not in page
    assert not Charge.objects.filter(metric=metric).exists()
