"""Demo invoices: two customers with three months of history (paid, open and void invoices).

Their last period ended ten minutes before the demo was loaded and is left for celery-beat to
bill, so a fresh ``make run`` shows the billing task at work within a minute or two. Events of
past periods are stored as received during their period, so they are not late usage. Loaded
once: a second run changes nothing.
"""

from datetime import datetime, timedelta
from typing import TextIO

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from invoices import demo_adjustments, demo_one_off
from invoices.models import Invoice, InvoiceKind
from invoices.services import (
    drafts_due_ids,
    drafts_finalize,
    invoice_mark_paid,
    invoice_void,
    subscription_bill_due,
)
from metering.services import usage_events_ingest
from plans.models import Plan
from plans.services import customer_create, subscription_create

# customer -> (name, email, plan code, API calls and tokens per month)
HISTORY: dict[str, tuple[str, str, str, int]] = {
    "stark": ("Stark Industries", "ap@stark.example", "professional", 40),
    "wayne": ("Wayne Enterprises", "billing@wayne.example", "team", 25),
}
MONTHS = 3


def load(stdout: TextIO) -> None:
    demo_one_off.load(stdout)
    demo_adjustments.load(stdout)
    if Invoice.objects.filter(customer__external_id__in=HISTORY).exists():
        return
    now = timezone.now().replace(second=0, microsecond=0)
    started = now - relativedelta(months=MONTHS) - timedelta(minutes=10)
    for external_id, (name, email, plan_code, calls) in HISTORY.items():
        customer, _ = customer_create(external_id=external_id, name=name, email=email)
        subscription, _ = subscription_create(
            customer=customer,
            plan=Plan.objects.get(code=plan_code),
            external_id=f"{external_id}-{plan_code}",
            started_at=started,
            trial_days=0,
        )
        for month in range(MONTHS):
            period_start = started + relativedelta(months=month)
            _events(external_id, period_start + timedelta(days=3), calls * (month + 1), month)
            if month == MONTHS - 1:
                break  # the last period is billed by beat
            period_end = started + relativedelta(months=month + 1)
            _bill(subscription.pk, period_end)
    invoices = {
        (i.customer.external_id, i.kind, i.period_start): i
        for i in Invoice.objects.filter(customer__external_id__in=HISTORY).select_related(
            "customer"
        )
    }
    for (customer_id, kind, period_start), invoice in sorted(invoices.items()):
        if period_start == started:
            invoice_mark_paid(invoice=invoice, reason="Demo: paid by bank transfer")
        elif customer_id == "wayne" and kind == InvoiceKind.PERIOD:
            invoice_void(invoice=invoice, reason="Demo: issued twice by mistake")
    stdout.write(
        f"Invoice history: {len(invoices)} invoices for {', '.join(HISTORY)} "
        "(paid, open and void); their last period is left for beat to bill.\n"
    )


def _events(customer_id: str, at: datetime, count: int, month: int) -> None:
    events = [
        {
            "transaction_id": f"demo-history-{month}-{n}",
            "customer_id": customer_id,
            "code": "api_calls",
            "timestamp": (at + timedelta(minutes=n)).isoformat(),
            "properties": {},
        }
        for n in range(count)
    ] + [
        {
            "transaction_id": f"demo-history-{month}-tokens",
            "customer_id": customer_id,
            "code": "llm_tokens",
            "timestamp": at.isoformat(),
            "properties": {"tokens": 1_500_000 * (month + 1)},
        }
    ]
    usage_events_ingest(events=events, received_at=at + timedelta(hours=1))


def _bill(subscription_id: int, period_end: datetime) -> None:
    billed_at = period_end + timedelta(minutes=1)
    subscription_bill_due(subscription_id=subscription_id, now=billed_at)
    finalize_at = billed_at + timedelta(days=1, minutes=1)
    drafts_finalize(invoice_ids=drafts_due_ids(now=finalize_at), now=finalize_at)
