"""Writes of invoices. Import from here: ``from invoices.services import invoice_finalize``."""

from invoices.selectors.lines import period_lines
from invoices.services.billing import invoice_create_for_period, lines_save
from invoices.services.cycle import (
    BATCH_SIZE,
    billing_batch_run,
    billing_run_batch_record,
    billing_run_start,
    drafts_due_ids,
    drafts_finalize,
    drafts_refresh,
    drafts_with_late_events_ids,
    subscription_bill_due,
    subscriptions_due_ids,
)
from invoices.services.lifecycle import (
    invoice_finalize,
    invoice_mark_paid,
    invoice_mark_uncollectible,
    invoice_number_next,
    invoice_recompute,
    invoice_void,
)

__all__ = [
    "BATCH_SIZE",
    "billing_batch_run",
    "billing_run_batch_record",
    "billing_run_start",
    "drafts_due_ids",
    "drafts_finalize",
    "drafts_refresh",
    "drafts_with_late_events_ids",
    "invoice_create_for_period",
    "invoice_finalize",
    "invoice_mark_paid",
    "invoice_mark_uncollectible",
    "invoice_number_next",
    "invoice_recompute",
    "invoice_void",
    "lines_save",
    "period_lines",
    "subscription_bill_due",
    "subscriptions_due_ids",
]
