from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from entitlements.selectors import entitlement_get, entitlements_list
from plans.services import plan_feature_set, plan_version_publish, subscription_override_create
from tests.entitlements.factories import plan_with_feature, subscribe
from tests.plans.factories import make_feature, make_metric

D = Decimal
pytestmark = pytest.mark.django_db


def test_the_check_reads_plan_and_overrides_as_pricing_for_subscription_does():
    # given: a plan with a metered and a boolean feature, an override on the metered one
    # (current), an expired one on the boolean, and a feature granted by an override only
    version, _ = plan_with_feature(limit=D(100), cap="soft", publish=False)
    plan_feature_set(version=version, feature=make_feature("sso", kind="boolean"), enabled=False)
    version = plan_version_publish(version=version)
    _, subscription, calls = subscribe(version=version)
    now = timezone.now()
    subscription_override_create(
        subscription=subscription,
        kind="feature",
        feature=calls,
        value={"limit": "250", "cap": "hard"},
        reason="pilot",
        valid_from=now - timedelta(days=1),
    )
    subscription_override_create(
        subscription=subscription,
        kind="feature",
        feature=make_feature("sso"),
        value={"enabled": True},
        reason="expired trial of SSO",
        valid_from=now - timedelta(days=3),
        valid_until=now - timedelta(days=2),
    )
    images = make_feature("images", kind="metered", metric=make_metric("images"))
    subscription_override_create(
        subscription=subscription,
        kind="feature",
        feature=images,
        value={"limit": "5"},
        reason="beta access",
    )
    customer = subscription.customer
    # when
    listed = {d.feature: d for d in entitlements_list(customer=customer, at=now)}
    checked = {slug: entitlement_get(customer=customer, feature=slug, at=now) for slug in listed}
    # then: the two roads agree, feature by feature
    assert set(listed) == {"api-calls", "sso", "images"}
    for slug, decision in listed.items():
        assert checked[slug] == decision, slug
    assert (checked["api-calls"].limit, checked["api-calls"].cap) == (D(250), "hard")
    assert (checked["sso"].allowed, checked["sso"].reason) == (False, "feature_disabled")
    assert (checked["images"].limit, checked["images"].source) == (D(5), "override")
