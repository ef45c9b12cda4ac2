from datetime import UTC, datetime
from decimal import Decimal

import pytest

from billing_site.core.exceptions import ApplicationError
from billing_site.core.models import AuditLogEntry
from plans.models import Subscription
from plans.selectors import subscriptions_migration_preview
from plans.services import (
    subscription_cancel,
    subscriptions_schedule_migration,
)
from tests.plans.factories import (
    SEED_GRADUATED,
    make_customer,
    make_plan,
    make_subscription,
    make_version,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 2, 10, tzinfo=UTC)


@pytest.fixture
def versions():
    plan = make_plan()
    v1 = make_version(
        plan,
        publish=True,
        charges={
            "api-calls": ("graduated", SEED_GRADUATED),
            "storage": ("standard", {"amount": "0.10"}),
        },
    )
    v2 = make_version(
        plan,
        publish=True,
        base_fee=Decimal("59"),
        charges={
            "api-calls": ("standard", {"amount": "0.01"}),
            "tokens": ("package", {"amount": "10", "package_size": "1000"}),
        },
    )
    return v1, v2


def subscribe(version, customer_id, started_at):
    return make_subscription(version, make_customer(customer_id), started_at=started_at)


def test_next_period_schedules_each_subscription_at_its_own_period_end(versions, django_user_model):
    # given two subscriptions with different anchors
    v1, v2 = versions
    a = subscribe(v1, "acme", datetime(2025, 1, 31, tzinfo=UTC))
    b = subscribe(v1, "globex", datetime(2025, 2, 5, tzinfo=UTC))
    staff = django_user_model.objects.create(username="finance")

    # when
    result = subscriptions_schedule_migration(
        from_version=v1, to_version=v2, when="next_period", actor=staff, now=NOW
    )

    # then
    assert [(m.subscription.external_id, m.change_at) for m in result.moves] == sorted(
        [
            (a.external_id, datetime(2025, 2, 28, tzinfo=UTC)),
            (b.external_id, datetime(2025, 3, 5, tzinfo=UTC)),
        ]
    )
    a.refresh_from_db()
    assert a.version == v1
    assert (a.scheduled_version, a.scheduled_change_at) == (v2, datetime(2025, 2, 28, tzinfo=UTC))
    # and the charges without counterpart are reported by metric
    assert [c.metric.code for c in result.charges_without_counterpart] == ["storage"]
    assert [c.metric.code for c in result.charges_added] == ["tokens"]
    # and one audit row per subscription records who did it
    rows = AuditLogEntry.objects.filter(action="subscription.migration_scheduled")
    assert rows.count() == 2
    assert {row.actor_label for row in rows} == {"finance"}
    assert rows.first().changes["charges_without_counterpart"] == ["storage"]


def test_immediately_switches_the_version_now(versions):
    v1, v2 = versions
    subscription = subscribe(v1, "acme", datetime(2025, 1, 31, tzinfo=UTC))

    result = subscriptions_schedule_migration(
        from_version=v1, to_version=v2, when="immediately", now=NOW
    )

    subscription.refresh_from_db()
    assert subscription.version == v2
    assert subscription.scheduled_version is None
    assert [m.change_at for m in result.moves] == [NOW]
    assert subscription.current_period_end == datetime(2025, 2, 28, tzinfo=UTC)


def test_only_the_named_subscriptions_move(versions):
    v1, v2 = versions
    a = subscribe(v1, "acme", datetime(2025, 1, 31, tzinfo=UTC))
    b = subscribe(v1, "globex", datetime(2025, 1, 31, tzinfo=UTC))

    subscriptions_schedule_migration(
        from_version=v1, to_version=v2, when="immediately", subscriptions=[a], now=NOW
    )

    assert Subscription.objects.get(pk=a.pk).version == v2
    assert Subscription.objects.get(pk=b.pk).version == v1


def test_ended_and_canceling_subscriptions_are_skipped_with_a_reason(versions):
    v1, v2 = versions
    canceled = subscribe(v1, "acme", datetime(2025, 1, 31, tzinfo=UTC))
    subscription_cancel(subscription=canceled, at_period_end=False)
    canceling = subscribe(v1, "globex", datetime(2025, 1, 31, tzinfo=UTC))
    subscription_cancel(subscription=canceling, at_period_end=True)

    preview = subscriptions_migration_preview(
        from_version=v1, to_version=v2, when="next_period", now=NOW
    )

    assert preview.moves == ()
    assert {(s.subscription.external_id, s.reason) for s in preview.skipped} == {
        (canceled.external_id, "it is canceled"),
        (canceling.external_id, "it is canceled at period end"),
    }


def test_the_preview_writes_nothing(versions):
    v1, v2 = versions
    subscription = subscribe(v1, "acme", datetime(2025, 1, 31, tzinfo=UTC))
    audit = AuditLogEntry.objects.count()

    preview = subscriptions_migration_preview(
        from_version=v1, to_version=v2, when="next_period", now=NOW
    )

    assert len(preview.moves) == 1
    subscription.refresh_from_db()
    assert subscription.scheduled_version is None
    assert AuditLogEntry.objects.count() == audit


@pytest.mark.parametrize(
    ("_case", "target", "code"),
    [
        ("to a draft", lambda v1, v2: make_version(v1.plan), "version_not_published"),
        ("to itself", lambda v1, v2: v1, "same_version"),
        (
            "to another currency",
            lambda v1, v2: make_version(make_plan("eur"), publish=True, currency="EUR"),
            "currency_mismatch",
        ),
    ],
)
def test_migration_is_refused_with_nothing_written(versions, _case, target, code):
    v1, v2 = versions
    subscription = subscribe(v1, "acme", datetime(2025, 1, 31, tzinfo=UTC))

    with pytest.raises(ApplicationError) as raised:
        subscriptions_schedule_migration(
            from_version=v1, to_version=target(v1, v2), when="immediately", now=NOW
        )

    assert raised.value.code == code
    subscription.refresh_from_db()
    assert (subscription.version, subscription.scheduled_version) == (v1, None)
    assert not AuditLogEntry.objects.filter(action="subscription.migration_scheduled").exists()
