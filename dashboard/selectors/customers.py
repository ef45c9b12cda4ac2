"""The customers worth a look: the largest by amount and by usage this month (from the
invoices issued this month and their lines), and those near a limit (from the usage alerts of
the windows in force)."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import F, QuerySet, Sum, Window
from django.db.models.functions import RowNumber

from dashboard.selectors.periods import month_start, next_month
from dashboard.selectors.revenue import COUNTED
from entitlements.models import UsageAlert
from invoices.models import Invoice, InvoiceLine
from plans.models import Customer

TOP = 5
NEAR_LIMIT_PERCENT = 80
NEAR_LIMIT_ROWS = 10


@dataclass(frozen=True)
class TopCustomer:
    customer_pk: int
    external_id: str
    name: str
    value: Decimal | int  # an amount in the currency, or a number of events

    @property
    def label(self) -> str:
        return self.name or self.external_id


@dataclass(frozen=True)
class NearLimit:
    customer_pk: int
    external_id: str
    name: str
    feature: str
    threshold: int  # the highest alert threshold crossed in the window, in percent
    used: Decimal
    allowance: Decimal
    window_end: datetime

    @property
    def label(self) -> str:
        return self.name or self.external_id


def _ranked(queryset: QuerySet, value: str) -> dict[str, list[TopCustomer]]:
    """The `TOP` rows per currency of (currency, customer_pk, value) rows, largest first; the
    customers' ids and names are read afterwards for those rows only (not joined to every
    customer of the month)."""
    rows = list(
        queryset.annotate(
            rank=Window(RowNumber(), partition_by=[F("currency")], order_by=F(value).desc())
        )
        .filter(rank__lte=TOP)
        .order_by("currency", "rank")
    )
    names = {
        pk: (external_id, name)
        for pk, external_id, name in Customer.objects.filter(
            pk__in={row["customer_pk"] for row in rows}
        ).values_list("pk", "external_id", "name")
    }
    top: dict[str, list[TopCustomer]] = {}
    for row in rows:
        external_id, name = names[row["customer_pk"]]
        top.setdefault(row["currency"], []).append(
            TopCustomer(row["customer_pk"], external_id, name, row[value])
        )
    return top


def top_customers_by_amount(*, at: datetime) -> dict[str, list[TopCustomer]]:
    """Per currency, the `TOP` customers by the total of their invoices issued this month."""
    start = month_start(at)
    invoices = (
        Invoice.objects.filter(issued_at__gte=start, issued_at__lt=next_month(start))
        .filter(status__in=COUNTED)
        .values("currency", customer_pk=F("customer_id"))
        .annotate(amount=Sum("total"))
    )
    return _ranked(invoices, "amount")


def top_customers_by_usage(*, at: datetime) -> dict[str, list[TopCustomer]]:
    """Per currency, the `TOP` customers by the events billed on their invoices issued this
    month (each usage line keeps how many events it counted)."""
    start = month_start(at)
    lines = (
        InvoiceLine.objects.filter(
            invoice__issued_at__gte=start,
            invoice__issued_at__lt=next_month(start),
            invoice__status__in=COUNTED,
        )
        .values(currency=F("invoice__currency"), customer_pk=F("invoice__customer_id"))
        .annotate(events=Sum("event_count"))
        .filter(events__gt=0)
    )
    return _ranked(lines, "events")


def customers_near_limits(*, at: datetime) -> tuple[int, list[NearLimit]]:
    """How many customers crossed `NEAR_LIMIT_PERCENT` of a feature's allowance in a window
    still in force, and the `NEAR_LIMIT_ROWS` closest to (or over) it, fullest first."""
    alerts = UsageAlert.objects.filter(window_end__gt=at, threshold__gte=NEAR_LIMIT_PERCENT)
    count = alerts.values("customer_id").distinct().count()
    latest = (
        alerts.order_by("customer_id", "feature_id", "-threshold", "-fired_at")
        .distinct("customer_id", "feature_id")
        .values(
            "customer_id",
            "customer__external_id",
            "customer__name",
            "feature__name",
            "threshold",
            "used",
            "allowance",
            "window_end",
        )
    )
    rows = [
        NearLimit(
            customer_pk=row["customer_id"],
            external_id=row["customer__external_id"],
            name=row["customer__name"],
            feature=row["feature__name"],
            threshold=row["threshold"],
            used=row["used"],
            allowance=row["allowance"],
            window_end=row["window_end"],
        )
        for row in latest
    ]
    rows.sort(key=lambda r: (-(r.used / r.allowance if r.allowance else Decimal(0)), r.label))
    return count, rows[:NEAR_LIMIT_ROWS]
