"""What waits on someone: draft invoices before finalization, and finalized invoices whose
payment failed, per currency."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q, Sum

from invoices.models import Invoice, InvoiceStatus, PaymentStatus


@dataclass(frozen=True)
class InvoiceQueue:
    currency: str
    count: int
    amount: Decimal
    overdue: int  # drafts past their grace period (finalization is due); 0 for failed payments


def invoices_waiting_to_finalize(*, at: datetime) -> dict[str, InvoiceQueue]:
    rows = (
        Invoice.objects.filter(status=InvoiceStatus.DRAFT)
        .values("currency")
        .annotate(
            n=Count("id"),
            amount=Sum("total"),
            overdue=Count("id", filter=Q(finalize_after__lte=at)),
        )
        .order_by()
    )
    return {
        row["currency"]: InvoiceQueue(row["currency"], row["n"], row["amount"], row["overdue"])
        for row in rows
    }


def payments_failed() -> dict[str, InvoiceQueue]:
    """Finalized (open) invoices whose last payment attempt failed."""
    rows = (
        Invoice.objects.filter(status=InvoiceStatus.FINALIZED, payment_status=PaymentStatus.FAILED)
        .values("currency")
        .annotate(n=Count("id"), amount=Sum("total"))
        .order_by()
    )
    return {
        row["currency"]: InvoiceQueue(row["currency"], row["n"], row["amount"], 0) for row in rows
    }
