import pytest
from django.urls import reverse
from django.utils import timezone

from metering.models import BillableMetric
from tests.plans.factories import make_metric

pytestmark = pytest.mark.django_db


def test_metrics_filter_archived_and_active_in_words(admin_client):
    # given
    make_metric("api_calls")
    old = make_metric("old_calls")
    BillableMetric.objects.filter(pk=old.pk).update(archived_at=timezone.now())
    url = reverse("admin:metering_billablemetric_changelist")
    # when
    page = admin_client.get(url).content.decode()
    archived = admin_client.get(url, {"archived": "yes"}).context["cl"].result_list
    active = admin_client.get(url, {"archived": "no"}).context["cl"].result_list
    # then
    assert ">Archived</a>" in page
    assert ">Active</a>" in page
    assert "Not empty" not in page
    assert [m.code for m in archived] == ["old_calls"]
    assert [m.code for m in active] == ["api_calls"]
