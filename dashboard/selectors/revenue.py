"""Revenue and MRR per currency, read from the invoices (never from the events).

- Revenue this month: the totals of the invoices issued (drafted) in the current UTC calendar
  month, by status: draft, finalized (open) and paid; void and uncollectible ones are left out.
  The projection carries the month's amount so far to the month's end at the rate it has
  accrued (amount so far x month length / time elapsed), rounded once to the currency's minor
  unit.
- MRR of a month: the invoices whose billing period starts in that month (void and
  uncollectible left out), each total brought to a month by its plan version's interval
  (a week's x 52/12, a quarter's / 3, a year's / 12), summed exactly and rounded once.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth

from billing_site.core.money import quantize
from dashboard.selectors.periods import month_start, month_starts, next_month
from invoices.models import Invoice, InvoiceStatus
from plans.models import Interval, PlanVersion

COUNTED = (InvoiceStatus.DRAFT, InvoiceStatus.FINALIZED, InvoiceStatus.PAID)
# One period's amount brought to a month: x numerator / denominator (one division per figure).
TO_MONTH = {
    Interval.WEEK: (52, 12),
    Interval.MONTH: (1, 1),
    Interval.QUARTER: (1, 3),
    Interval.YEAR: (1, 12),
}


@dataclass(frozen=True)
class RevenueThisMonth:
    currency: str
    month_start: datetime
    month_end: datetime
    draft: Decimal
    finalized: Decimal
    paid: Decimal
    projected: Decimal
    invoice_counts: dict[str, int]  # by status

    @property
    def so_far(self) -> Decimal:
        return self.draft + self.finalized + self.paid


@dataclass(frozen=True)
class MonthlyRecurringRevenue:
    currency: str
    months: list[tuple[datetime, Decimal]]  # oldest first; the last is the month in progress

    @property
    def complete(self) -> list[tuple[datetime, Decimal]]:
        return self.months[:-1]

    @property
    def latest(self) -> Decimal:
        """MRR of the last complete month."""
        return self.complete[-1][1]

    @property
    def month_change(self) -> Decimal:
        return self.latest - self.complete[-2][1]

    @property
    def year_change(self) -> Decimal:
        """Change over the last 12 months: the last complete month against the same month a
        year before."""
        return self.latest - self.complete[-13][1]


def revenue_this_month(*, at: datetime) -> list[RevenueThisMonth]:
    """Per currency (alphabetical), the invoices issued this month by status, and the
    projection to the month's end."""
    start = month_start(at)
    end = next_month(start)
    rows = (
        Invoice.objects.filter(issued_at__gte=start, issued_at__lt=end, status__in=COUNTED)
        .values("currency", "status")
        .annotate(amount=Sum("total"), n=Count("id"))
        .order_by()
    )
    amounts: dict[str, dict[str, Decimal]] = defaultdict(dict)
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for row in rows:
        amounts[row["currency"]][row["status"]] = row["amount"]
        counts[row["currency"]][row["status"]] = row["n"]
    elapsed = Decimal(max((at - start).total_seconds(), 1))
    month = Decimal((end - start).total_seconds())
    figures = []
    for currency in sorted(amounts):
        by_status = amounts[currency]
        draft = by_status.get(InvoiceStatus.DRAFT, Decimal(0))
        finalized = by_status.get(InvoiceStatus.FINALIZED, Decimal(0))
        paid = by_status.get(InvoiceStatus.PAID, Decimal(0))
        so_far = draft + finalized + paid
        figures.append(
            RevenueThisMonth(
                currency=currency,
                month_start=start,
                month_end=end,
                draft=draft,
                finalized=finalized,
                paid=paid,
                projected=quantize(so_far * month / elapsed, currency),
                invoice_counts=counts[currency],
            )
        )
    return figures


def mrr_by_month(*, at: datetime, months: int = 14) -> list[MonthlyRecurringRevenue]:
    """Per currency (alphabetical), MRR of the `months` calendar months ending with the one in
    progress (14: the last complete month, the same month a year before, and the current)."""
    starts = month_starts(at=at, count=months)
    rows = (
        Invoice.objects.filter(
            period_start__gte=starts[0],
            period_start__lt=next_month(starts[-1]),
            status__in=COUNTED,
        )
        .annotate(month=TruncMonth("period_start"))
        .values("currency", "month", "version_id")
        .annotate(amount=Sum("total"))
        .order_by()
    )
    # Grouped by version (read from the index alone), then each version's interval (a few rows).
    rows = list(rows)
    intervals = dict(
        PlanVersion.objects.filter(pk__in={row["version_id"] for row in rows}).values_list(
            "pk", "interval"
        )
    )
    exact: dict[str, dict[datetime, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in rows:
        numerator, denominator = TO_MONTH[intervals[row["version_id"]]]
        exact[row["currency"]][row["month"]] += row["amount"] * numerator / denominator
    return [
        MonthlyRecurringRevenue(
            currency=currency,
            months=[
                (start, quantize(exact[currency].get(start, Decimal(0)), currency))
                for start in starts
            ],
        )
        for currency in sorted(exact)
    ]
