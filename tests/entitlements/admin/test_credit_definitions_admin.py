from decimal import Decimal

import pytest
from django.urls import reverse

from credits.services import credit_definition_set
from tests.entitlements.factories import plan_with_feature

pytestmark = pytest.mark.django_db


def test_credit_allowances_are_edited_on_a_draft_and_read_only_once_published(admin_client):
    # given: a draft with a credit allowance
    version, feature = plan_with_feature(limit=Decimal(0), publish=False)
    credit_definition_set(
        version=version,
        feature=feature,
        initial_amount=Decimal(100),
        renew_on_billing=True,
        refill_amount=Decimal(100),
    )
    url = reverse("admin:plans_planversion_change", args=[version.pk])
    # when
    draft_page = admin_client.get(url).content.decode()
    from plans.services import plan_version_publish

    plan_version_publish(version=version)
    published_page = admin_client.get(url).content.decode()
    # then
    assert "Credits (units granted at start and refilled each period)" in draft_page
    assert 'name="credit_definitions-0-initial_amount"' in draft_page
    assert 'name="credit_definitions-0-initial_amount"' not in published_page
    assert "100" in published_page


def test_published_credit_definitions_are_frozen():
    from billing_site.core.exceptions import ApplicationError

    version, feature = plan_with_feature(limit=Decimal(0))
    with pytest.raises(ApplicationError) as frozen:
        credit_definition_set(version=version, feature=feature, initial_amount=Decimal(1))
    assert frozen.value.code == "version_published"
