"""The batch billing path: plain subscriptions billed together give the invoices the one-by-one
path gives, exactly once, in a number of statements that does not grow with the batch."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing_site.core.models import AuditLogEntry
from credits.models import CreditGrant
from credits.services import credit_definition_set
from invoices.models import CouponRedemption, Invoice, InvoiceEmail, InvoiceEvent, InvoiceStatus
from invoices.selectors.billing import plain_subscription_ids
from invoices.selectors.lines import late_candidate_ids
from invoices.selectors.usage import UsageLookup
from invoices.services import billing_batch_run, invoice_create_for_period, subscription_bill_due
from invoices.services.batch import subscriptions_bill_plain
from invoices.services.coupons import coupon_apply
from plans.models import Customer, Subscription
from plans.services import plan_version_publish, subscription_override_create
from tests.entitlements.factories import plan_with_feature
from tests.invoices.adjustment_factories import make_coupon
from tests.invoices.factories import plan_version, send_tokens, subscribe, utc
from tests.plans.factories import make_customer, make_subscription

pytestmark = pytest.mark.django_db

FEB_1 = utc(2026, 2, 1, 0, 5)
JAN_1 = utc(2026, 1, 1)


def _lookup(ids: list[int]) -> UsageLookup:
    lookup = UsageLookup()
    lookup.plain = plain_subscription_ids(ids)
    lookup.late_candidates = late_candidate_ids(subscription_ids=ids, now=FEB_1)
    return lookup


def _invoice_of(subscription: Subscription) -> Invoice:
    return Invoice.objects.get(subscription=subscription)


def _lines(invoice: Invoice) -> list[tuple]:
    return [
        (
            line.position,
            line.kind,
            line.description,
            line.quantity,
            line.unit_amount,
            line.amount_precise,
            line.amount,
            line.breakdown,
            line.event_count,
            line.line_start,
            line.line_end,
            line.charge_id,
        )
        for line in invoice.lines.order_by("position")
    ]


def _shape(invoice: Invoice) -> tuple:
    """Everything about an invoice that does not name its customer or depend on event ids."""
    return (
        invoice.kind,
        invoice.status,
        invoice.currency,
        invoice.total,
        invoice.period_start,
        invoice.period_end,
        invoice.finalize_after,
        invoice.finalized_at,
        invoice.due_at,
        invoice.paid_at,
        invoice.number is not None,
        sorted(invoice.events.values_list("action", "from_status", "to_status", "reason")),
        sorted(
            AuditLogEntry.objects.filter(
                object_type="invoices.invoice", object_id=str(invoice.pk)
            ).values_list("action", "reason")
        ),
        _lines(invoice),
    )


def _shapes(version_kwargs: dict, usage: list[int], trial_days: int | None = None) -> tuple:
    """The same subscription and usage twice, one billed by the batch path and one by the
    one-by-one path: (batch invoice, one-by-one invoice, both subscriptions)."""
    version = plan_version(**version_kwargs)
    twins = []
    for customer in ("batch", "single"):
        subscribe_kwargs = {"trial_days": trial_days} if trial_days is not None else {}
        twins.append(subscribe(version, customer, started_at=JAN_1, **subscribe_kwargs))
        if usage:
            send_tokens(customer, *usage, at=utc(2026, 1, 15))
    batch, single = twins
    billed = subscriptions_bill_plain(
        subscription_ids=[batch.pk], lookup=_lookup([batch.pk]), now=FEB_1
    )
    assert billed.subscription_ids == {batch.pk}
    subscription_bill_due(subscription_id=single.pk, now=FEB_1)
    batch.refresh_from_db()
    single.refresh_from_db()
    return _invoice_of(batch), _invoice_of(single), batch, single


def test_the_batch_path_bills_the_same_invoice_as_the_one_by_one_path_to_the_cent():
    batch_invoice, single_invoice, batch, single = _shapes({}, [5000, 7000])

    assert _shape(batch_invoice) == _shape(single_invoice)
    assert [(line[1], line[6]) for line in _lines(batch_invoice)] == [
        ("base_fee", Decimal("49.00")),
        ("usage", Decimal("120.00")),
    ]
    assert (batch_invoice.total, batch_invoice.status) == (Decimal("169.00"), "finalized")
    assert (
        (batch.current_period_start, batch.current_period_end)
        == (
            single.current_period_start,
            single.current_period_end,
        )
        == (utc(2026, 2, 1), utc(2026, 3, 1))
    )
    batch_advance = AuditLogEntry.objects.get(
        object_id=str(batch.pk), action="subscription.period_advanced"
    )
    single_advance = AuditLogEntry.objects.get(
        object_id=str(single.pk), action="subscription.period_advanced"
    )
    assert batch_advance.changes == single_advance.changes


def test_the_batch_path_keeps_drafts_during_grace_days_like_the_one_by_one_path():
    batch_invoice, single_invoice, _, _ = _shapes({"invoice_grace_days": 3}, [1200])

    assert _shape(batch_invoice) == _shape(single_invoice)
    assert (batch_invoice.status, batch_invoice.number) == (InvoiceStatus.DRAFT, None)
    assert batch_invoice.finalize_after == utc(2026, 2, 4)
    assert batch_invoice.total == Decimal("71.00")  # 49.00 + 1000 x 0.02 + 200 x 0.01


def test_the_batch_path_marks_a_zero_invoice_paid_like_the_one_by_one_path():
    batch_invoice, single_invoice, _, _ = _shapes({"code": "free", "base_fee": "0"}, [])

    assert _shape(batch_invoice) == _shape(single_invoice)
    assert (batch_invoice.status, batch_invoice.total) == (InvoiceStatus.PAID, Decimal("0.00"))
    assert batch_invoice.paid_at == FEB_1


def test_the_batch_path_prorates_a_trial_like_the_one_by_one_path():
    batch_invoice, single_invoice, batch, _ = _shapes({"code": "trial"}, [10], trial_days=10)

    assert _shape(batch_invoice) == _shape(single_invoice)
    # 49.00 x 21/31 days after the 10 trial days (33.19), plus 10 tokens at 0.02
    assert batch_invoice.total == Decimal("33.39")
    assert batch.status == Subscription.Status.ACTIVE


def test_the_batch_path_grants_credit_refills_and_finalizes_like_the_one_by_one_path():
    version, feature = plan_with_feature(limit=Decimal(0), publish=False)
    credit_definition_set(
        version=version,
        feature=feature,
        initial_amount=Decimal(100),
        refill_amount=Decimal(50),
        renew_on_billing=True,
    )
    version = plan_version_publish(version=version)
    nov_1, dec_1 = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, 0, 5, tzinfo=UTC)
    batch = make_subscription(version, make_customer("batch"), started_at=nov_1)
    single = make_subscription(version, make_customer("single"), started_at=nov_1)

    lookup = UsageLookup()
    lookup.plain = plain_subscription_ids([batch.pk])
    subscriptions_bill_plain(subscription_ids=[batch.pk], lookup=lookup, now=dec_1)
    subscription_bill_due(subscription_id=single.pk, now=dec_1)

    refills = {
        grant.customer.external_id: (grant.amount, grant.effective_at)
        for grant in CreditGrant.objects.filter(source="refill").select_related("customer")
    }
    assert refills == {
        "batch": (Decimal(50), datetime(2026, 12, 1, tzinfo=UTC)),
        "single": (Decimal(50), datetime(2026, 12, 1, tzinfo=UTC)),
    }
    # and the invoices (finalized one by one, as customers holding credits are) are the same
    assert _shape(_invoice_of(batch)) == _shape(_invoice_of(single))
    assert _invoice_of(batch).status == InvoiceStatus.FINALIZED


def test_running_a_batch_twice_makes_no_second_invoice_and_advances_once():
    version = plan_version()
    subscriptions = [subscribe(version, f"c{n}", started_at=JAN_1) for n in range(3)]
    ids = [subscription.pk for subscription in subscriptions]
    send_tokens("c1", 2000, at=utc(2026, 1, 20))

    first = billing_batch_run(run_id=None, subscription_ids=ids, now=FEB_1)
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    second = billing_batch_run(run_id=None, subscription_ids=ids, now=FEB_1)

    assert (first, second) == (3, 0)
    assert (
        sorted(Invoice.objects.values_list("number", flat=True))
        == numbers
        == [
            "INV-2026-000001",
            "INV-2026-000002",
            "INV-2026-000003",
        ]
    )
    assert sorted(Invoice.objects.values_list("total", flat=True)) == [
        Decimal("49.00"),
        Decimal("49.00"),
        Decimal("79.00"),
    ]
    assert set(Subscription.objects.values_list("current_period_start", flat=True)) == {
        utc(2026, 2, 1)
    }
    assert AuditLogEntry.objects.filter(action="subscription.period_advanced").count() == 3
    assert InvoiceEvent.objects.filter(action="created").count() == 3


def test_an_invoice_already_there_wins_and_its_subscription_is_not_advanced_by_the_batch():
    version = plan_version()
    first, second = (subscribe(version, c, started_at=JAN_1) for c in ("first", "second"))
    # an invoice for the first one's January already exists (its period not yet advanced)
    existing, _ = invoice_create_for_period(
        subscription=first,
        kind="period",
        period_start=JAN_1,
        period_end=utc(2026, 2, 1),
        now=FEB_1,
    )

    billed = subscriptions_bill_plain(
        subscription_ids=[first.pk, second.pk], lookup=_lookup([first.pk, second.pk]), now=FEB_1
    )

    assert billed.subscription_ids == {second.pk}
    first.refresh_from_db()
    assert first.current_period_start == JAN_1
    assert Invoice.objects.filter(subscription=first).get() == existing
    # and the run's one-by-one path then advances it, keeping the one invoice
    assert billing_batch_run(run_id=None, subscription_ids=[first.pk, second.pk], now=FEB_1) == 0
    first.refresh_from_db()
    assert first.current_period_start == utc(2026, 2, 1)
    assert Invoice.objects.filter(subscription=first).count() == 1


def test_subscriptions_that_are_not_plain_are_billed_one_by_one_in_the_same_run():
    version = plan_version()
    plain = subscribe(version, "plain", started_at=JAN_1)
    special = subscribe(version, "special", started_at=JAN_1)
    subscription_override_create(
        subscription=special, kind="base_fee", value={"amount": "39.00"}, reason="deal"
    )
    ids = [plain.pk, special.pk]

    billed = subscriptions_bill_plain(subscription_ids=ids, lookup=_lookup(ids), now=FEB_1)
    assert billed.subscription_ids == {plain.pk}
    assert billing_batch_run(run_id=None, subscription_ids=ids, now=FEB_1) == 1

    totals = dict(Invoice.objects.values_list("subscription__external_id", "total"))
    assert totals == {plain.external_id: Decimal("49.00"), special.external_id: Decimal("39.00")}


def _statements_for_batch(prefix: str, size: int) -> int:
    version = plan_version()
    ids = []
    for n in range(size):
        customer = f"{prefix}-{n}"
        ids.append(subscribe(version, customer, started_at=JAN_1).pk)
        send_tokens(customer, 100 * (n + 1), 1500, at=utc(2026, 1, 5 + n))
    with CaptureQueriesContext(connection) as captured:
        created = billing_batch_run(run_id=None, subscription_ids=ids, now=FEB_1)
    assert created == size
    return len(captured.captured_queries)


def test_the_statements_of_a_batch_do_not_grow_with_its_size():
    small = _statements_for_batch("small", 4)
    large = _statements_for_batch("large", 8)

    assert small == large
    assert small <= 34  # usage, pricing, coupons, tax rates, credits, writes: per batch
    assert Invoice.objects.filter(status=InvoiceStatus.FINALIZED).count() == 12


def test_the_batch_path_redeems_coupons_and_records_the_finalized_email_like_the_one_by_one_path():
    # given twins with the same $20-off coupon and an e-mail address, and the same usage

    version = plan_version()
    make_coupon("welcome", amount="20.00")
    twins = []
    for name in ("batch", "single"):
        twins.append(subscribe(version, name, started_at=JAN_1))
        customer = Customer.objects.get(external_id=name)
        Customer.objects.filter(pk=customer.pk).update(email=f"{name}@example.com")
        coupon_apply(customer=customer, code="welcome", now=JAN_1)
        send_tokens(name, 5000, at=utc(2026, 1, 15))
    batch, single = twins

    # when one is billed by the batch path and the other one by one
    subscriptions_bill_plain(subscription_ids=[batch.pk], lookup=_lookup([batch.pk]), now=FEB_1)
    subscription_bill_due(subscription_id=single.pk, now=FEB_1)

    # then both invoices take the coupon once, are finalized, and record one "finalized" e-mail
    for subscription in (batch, single):
        invoice = _invoice_of(subscription)
        coupon_lines = list(invoice.lines.filter(kind="coupon").values_list("amount", flat=True))
        assert (invoice.status, coupon_lines) == ("finalized", [Decimal("-20.00")])
        assert CouponRedemption.objects.filter(invoice=invoice).count() == 1
        assert list(
            InvoiceEmail.objects.filter(invoice=invoice).values_list("event", flat=True)
        ) == ["finalized"]
    assert _invoice_of(batch).total == _invoice_of(single).total
