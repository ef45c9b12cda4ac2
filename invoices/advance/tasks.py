"""Beat tasks of pay-in-advance charges: fees from new events, then fee invoices. Each calls a
service that is keyed and locked, so running it twice, or two at once, bills each event once."""

from celery import shared_task


@shared_task(name="invoices.advance_fees_create")
def invoices_advance_fees_create_task() -> int:
    """Create the fees of events stored since the last run; returns how many."""
    from invoices.advance.services import advance_fees_create

    return advance_fees_create()


@shared_task(name="invoices.advance_fees_invoice")
def invoices_advance_fees_invoice_task() -> int:
    """Group the fees not yet invoiced onto one fee invoice per subscription; returns how many
    invoices it made."""
    from invoices.advance.invoicing import fee_invoices_create

    return len(fee_invoices_create())
