import pytest
from django.core.exceptions import ValidationError

from metering.models import BillableMetric
from metering.services import billable_metric_update, metric_used_by
from tests.plans.factories import make_feature, make_metric, make_version

pytestmark = pytest.mark.django_db


def test_a_metric_that_a_charge_prices_keeps_its_code_and_aggregation():
    # given
    make_version(charges={"api-calls": ("standard", {"amount": "0.01"})})
    metric = BillableMetric.objects.get(code="api-calls")
    # when
    with pytest.raises(ValidationError) as raised:
        billable_metric_update(metric=metric, code="api-calls-v2", aggregation="sum")
    # then
    why = (
        "Cannot change once charges use this metric: it would change what was already measured "
        "and billed. Make a new metric from this one instead."
    )
    assert raised.value.message_dict == {"code": [why], "aggregation": [why]}
    metric.refresh_from_db()
    assert (metric.code, metric.aggregation) == ("api-calls", "count")


def test_a_metric_a_metered_feature_limits_is_frozen_too():
    metric = make_metric("llm-tokens", aggregation="sum", field_name="tokens")
    make_feature("tokens", kind="metered", metric=metric)
    assert metric_used_by(metric=metric) == ["features"]


def test_an_unused_metric_may_still_be_renamed_and_its_name_always():
    metric = make_metric("spare")
    updated = billable_metric_update(metric=metric, code="spare-v2", name="Spare")
    assert (updated.code, updated.name) == ("spare-v2", "Spare")
