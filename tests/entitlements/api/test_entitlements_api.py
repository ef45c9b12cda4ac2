from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credits.models import CreditLedgerEntry
from entitlements.models import ConsumeRecord
from metering.models import Event
from plans.services import subscription_override_create
from tests.entitlements.factories import grant, plan_with_feature, subscribe

D = Decimal
pytestmark = pytest.mark.django_db
BASE = "/api/v1/customers/acme/entitlements"


def consume(client, feature="api-calls", **body):
    body.setdefault("quantity", "1")
    return client.post(f"{BASE}/{feature}/consume", body, format="json")


def test_check_answers_within_the_limit_with_the_numbers(authed_client):
    # given: 100 calls a period, 40 used
    subscribe(limit=D(100))
    consume(authed_client, transaction_id="t1", quantity="40")
    # when
    response = authed_client.get(f"{BASE}/api-calls?quantity=10")
    # then
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("allowed", "reason", "limit", "used", "credits", "remaining")} == {
        "allowed": True,
        "reason": "ok",
        "limit": "100",
        "used": "40",
        "credits": "0",
        "remaining": "60",
    }
    assert (body["cap"], body["kind"], body["plan"]) == ("hard", "metered", "professional")
    assert body["period_end"] == "2026-12-01T00:00:00Z"


@pytest.mark.parametrize(
    ("_case", "setup", "feature", "reason"),
    [
        ("no subscription", "none", "api-calls", "no_subscription"),
        ("feature not on the plan", "plan", "sso", "not_in_plan"),
    ],
)
def test_check_is_always_200_for_a_customer_that_exists(
    authed_client, _case, setup, feature, reason
):
    # given
    if setup == "none":
        from tests.plans.factories import make_customer

        make_customer("acme")
    else:
        subscribe(limit=D(10))
    # when
    response = authed_client.get(f"{BASE}/{feature}")
    # then
    assert response.status_code == 200
    assert (response.json()["allowed"], response.json()["reason"]) == (False, reason)


def test_check_of_an_unknown_customer_is_404_and_a_bad_quantity_400(authed_client):
    subscribe(limit=D(10))
    # when
    unknown = authed_client.get("/api/v1/customers/nobody/entitlements/api-calls")
    bad = authed_client.get(f"{BASE}/api-calls?quantity=-3")
    # then
    assert unknown.status_code == 404
    assert bad.status_code == 400
    assert list(bad.json()["error"]["fields"]) == ["quantity"]


def test_boolean_and_static_features_answer_their_value(authed_client):
    # given: a plan with SSO on and 5 projects
    version, _ = plan_with_feature(slug="sso", kind="boolean", publish=False, enabled=True)
    from plans.services import plan_feature_set, plan_version_publish
    from tests.plans.factories import make_feature

    plan_feature_set(version=version, feature=make_feature("projects", kind="static"), value=5)
    subscribe(version=plan_version_publish(version=version), slug="sso")
    # when
    listing = authed_client.get(BASE).json()["entitlements"]
    # then
    assert [(e["feature"], e["allowed"], e["value"]) for e in listing] == [
        ("projects", True, 5),
        ("sso", True, None),
    ]


def test_consume_records_usage_once_per_transaction_id(authed_client):
    # given
    subscribe(limit=D(10))
    # when: a consume of 3 is sent twice
    first = consume(authed_client, transaction_id="job-1", quantity="3")
    retry = consume(authed_client, transaction_id="job-1", quantity="3")
    # then: one answer, three events, used 3
    assert first.status_code == retry.status_code == 200
    assert first.json() == retry.json()
    assert (first.json()["used"], first.json()["remaining"]) == ("3", "7")
    assert Event.objects.filter(customer_id="acme").count() == 3
    assert ConsumeRecord.objects.count() == 1


def test_consume_beyond_a_hard_cap_is_402_with_the_numbers_and_an_upgrade(authed_client):
    # given: Starter allows 10, Professional 1000; 8 used
    plan_with_feature(plan="professional", limit=D(1000))
    starter, _ = plan_with_feature(plan="starter", limit=D(10))
    subscribe(version=starter)
    consume(authed_client, transaction_id="a", quantity="8")
    # when
    response = consume(authed_client, transaction_id="b", quantity="5")
    # then: refused with the numbers; nothing recorded
    assert response.status_code == 402
    error = response.json()["error"]
    assert {k: error[k] for k in ("code", "available", "requested", "limit", "used")} == {
        "code": "limit_reached",
        "available": "2",
        "requested": "5",
        "limit": "10",
        "used": "8",
    }
    assert error["upgrade"] == ["professional"]
    assert error["message"] == "Not enough allowance for 5 more api-calls: 2 available."
    assert Event.objects.filter(customer_id="acme").count() == 8


def test_consume_beyond_the_limit_burns_credits_then_refuses_as_insufficient_credits(
    authed_client,
):
    # given: 10 included and a grant of 5 credits
    customer, _, feature = subscribe(limit=D(10))
    grant(customer, feature, "5")
    # when: 12 are consumed, then 4 more
    within = consume(authed_client, transaction_id="a", quantity="12")
    refused = consume(authed_client, transaction_id="b", quantity="4")
    # then: 2 came from credits; 3 credits are left, 4 is refused
    assert within.status_code == 200
    assert (within.json()["credits_applied"], within.json()["credits"]) == ("2", "3")
    assert refused.status_code == 402
    assert (refused.json()["error"]["code"], refused.json()["error"]["available"]) == (
        "insufficient_credits",
        "3",
    )
    assert [e.amount for e in CreditLedgerEntry.objects.filter(kind="consume")] == [D(-2)]


def test_soft_cap_allows_the_overage(authed_client):
    # given
    subscribe(limit=D(10), cap="soft")
    # when
    response = consume(authed_client, transaction_id="a", quantity="15")
    # then
    assert response.status_code == 200
    assert (response.json()["reason"], response.json()["overage"]) == ("overage", "5")


def test_consume_of_a_feature_not_on_the_plan_is_403(authed_client):
    # given
    subscribe(limit=D(10))
    from tests.plans.factories import make_feature, make_metric

    make_feature("images", kind="metered", metric=make_metric("images"))
    # when
    response = consume(authed_client, feature="images", transaction_id="a")
    # then
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_in_plan"
    assert ConsumeRecord.objects.count() == 0


def test_an_override_raises_the_limit_for_one_subscription(authed_client):
    # given: a limit of 10 raised to 50 for this subscription
    _, subscription, feature = subscribe(limit=D(10))
    subscription_override_create(
        subscription=subscription,
        kind="feature",
        feature=feature,
        value={"limit": "50"},
        reason="Pilot",
    )
    # when
    body = authed_client.get(f"{BASE}/api-calls?quantity=30").json()
    # then
    assert (body["allowed"], body["limit"], body["source"]) == (True, "50", "override")


def test_a_daily_limit_counts_in_the_current_utc_day(authed_client):
    # given: 100 per day
    subscribe(limit=D(100), reset_period="day")
    consume(authed_client, transaction_id="a", quantity="100")
    # when
    body = authed_client.get(f"{BASE}/api-calls").json()
    # then: the window is today
    assert (body["allowed"], body["reason"], body["reset_period"]) == (
        False,
        "limit_reached",
        "day",
    )
    from datetime import UTC, timedelta

    from django.utils import timezone

    today = timezone.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert (body["period_start"], body["period_end"]) == (
        today.isoformat().replace("+00:00", "Z"),
        (today + timedelta(days=1)).isoformat().replace("+00:00", "Z"),
    )


def test_events_ingested_directly_count_in_the_next_check(authed_client):
    # given: a counter read once, then 4 events sent through POST /events
    subscribe(limit=D(10))
    authed_client.get(f"{BASE}/api-calls")
    from django.utils import timezone

    events = [
        {
            "transaction_id": f"direct-{n}",
            "customer_id": "acme",
            "code": "api-calls",
            "timestamp": timezone.now().isoformat(),
        }
        for n in range(4)
    ]
    assert (
        authed_client.post("/api/v1/events/batch", {"events": events}, format="json").status_code
        == 200
    )
    # when
    body = authed_client.get(f"{BASE}/api-calls").json()
    # then
    assert (body["used"], body["remaining"]) == ("4", "6")


def test_a_check_runs_a_fixed_number_of_queries_however_much_was_used(authed_client):
    # given: a customer with usage and credits, and a counter already current
    customer, _, feature = subscribe(limit=D(1000))
    grant(customer, feature, "50")
    for n in range(3):
        consume(authed_client, transaction_id=f"t{n}", quantity="100")
    authed_client.get(f"{BASE}/api-calls")
    # when
    with CaptureQueriesContext(connection) as first:
        authed_client.get(f"{BASE}/api-calls")
    for n in range(3, 10):
        consume(authed_client, transaction_id=f"t{n}", quantity="50")
    with CaptureQueriesContext(connection) as second:
        response = authed_client.get(f"{BASE}/api-calls")
    # then: the same small number, none on the event table
    assert response.json()["used"] == "650"
    assert len(first) == len(second) <= 6  # with the API key's and the customer's lookups
    assert not any("metering_event" in q["sql"] for q in second.captured_queries)


def test_the_selector_runs_one_query_once_the_counter_exists(django_assert_num_queries):
    # given
    from django.utils import timezone

    from entitlements.selectors import entitlement_get

    customer, _, _ = subscribe(limit=D(10))
    entitlement_get(customer=customer, feature="api-calls")
    # when / then: the feature in force with its window's counter, holds and credit balance
    with django_assert_num_queries(1):
        entitlement_get(customer=customer, feature="api-calls", at=timezone.now())


def test_holds_count_at_once_commit_at_most_the_held_and_free_the_rest(authed_client):
    # given: 10 included
    subscribe(limit=D(10))
    # when: 8 are held
    held = authed_client.post(
        f"{BASE}/api-calls/reserve", {"quantity": "8", "ttl_seconds": 60}, format="json"
    )
    # then: a second job cannot start on the last units
    assert held.status_code == 201
    hold_id = held.json()["hold_id"]
    assert held.json()["remaining"] == "2"
    second = authed_client.post(
        f"{BASE}/api-calls/reserve", {"quantity": "5", "ttl_seconds": 60}, format="json"
    )
    assert second.status_code == 402
    # when: the job used 6
    too_much = authed_client.post(
        f"{BASE}/api-calls/holds/{hold_id}/commit", {"quantity": "9"}, format="json"
    )
    committed = authed_client.post(
        f"{BASE}/api-calls/holds/{hold_id}/commit", {"quantity": "6"}, format="json"
    )
    again = authed_client.post(
        f"{BASE}/api-calls/holds/{hold_id}/commit", {"quantity": "6"}, format="json"
    )
    # then: 6 recorded once, 4 left
    assert too_much.status_code == 400
    assert committed.status_code == again.status_code == 200
    assert committed.json() == again.json()
    assert authed_client.get(f"{BASE}/api-calls").json()["remaining"] == "4"


def test_a_released_hold_frees_everything(authed_client):
    # given
    subscribe(limit=D(10))
    hold_id = authed_client.post(
        f"{BASE}/api-calls/reserve", {"quantity": "10", "ttl_seconds": 60}, format="json"
    ).json()["hold_id"]
    # when
    released = authed_client.post(f"{BASE}/api-calls/holds/{hold_id}/release")
    commit = authed_client.post(
        f"{BASE}/api-calls/holds/{hold_id}/commit", {"quantity": "1"}, format="json"
    )
    # then
    assert released.json()["status"] == "released"
    assert commit.status_code == 409
    assert authed_client.get(f"{BASE}/api-calls").json()["remaining"] == "10"


def test_credits_balance_lists_grants_in_burn_order(authed_client):
    # given
    customer, _, feature = subscribe(limit=D(0))
    lifetime = grant(customer, feature, "100")
    first = grant(customer, feature, "5", priority=1)
    # when
    body = authed_client.get("/api/v1/customers/acme/credits").json()
    # then
    assert body["balances"] == [{"feature": "api-calls", "balance": "105"}]
    assert [g["grant_id"] for g in body["grants"]] == [first.pk, lifetime.pk]


def test_a_period_not_yet_advanced_is_read_as_the_period_holding_now(django_assert_num_queries):
    # given: the stored period is November; the check is asked about December 5
    from datetime import UTC, datetime

    from entitlements.selectors import entitlement_get

    customer, _, _ = subscribe(limit=D(10))
    december = datetime(2026, 12, 5, tzinfo=UTC)
    entitlement_get(customer=customer, feature="api-calls", at=december)
    # when
    with django_assert_num_queries(2):  # the first statement's window was November's
        decision = entitlement_get(customer=customer, feature="api-calls", at=december)
    # then
    assert (decision.period_start, decision.period_end) == (
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize("reset_period", ["billing", "day", "week", "month", "never"])
def test_every_window_is_read_in_one_query(django_assert_num_queries, reset_period):
    # given: a counter for the current window
    from entitlements.selectors import entitlement_get

    customer, _, _ = subscribe(limit=D(10), reset_period=reset_period)
    first = entitlement_get(customer=customer, feature="api-calls")
    # when / then: the window SQL computes is the one the decision uses
    with django_assert_num_queries(1):
        again = entitlement_get(customer=customer, feature="api-calls")
    assert (again.period_start, again.period_end) == (first.period_start, first.period_end)
