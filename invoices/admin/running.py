"""The running period's amount so far on the catalog's customer and subscription pages.

The catalog's admin cannot read invoices (apps depend downwards), so this module re-registers
those two admins (the customer's on top of the entitlements app's customer 360 page) with a
read-only "amount so far" panel: the draft of the running period, computed (not stored) from the
usage so far, plus links to the latest invoices."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from entitlements.admin import Customer360Admin
from invoices.admin.invoices import invoice_admin_link
from invoices.display import money_text
from invoices.models import Invoice
from invoices.selectors import RunningPeriod, running_period_get, running_periods_for_customer
from plans.admin.subscriptions import SubscriptionAdmin
from plans.models import Customer, Subscription

PANEL = "running_period"
RECENT = "recent_invoices"


def _panel(running: RunningPeriod) -> str:
    lines = format_html_join(
        "",
        "<tr><td>{}</td><td style='text-align:right'>{}</td></tr>",
        ((line.description, money_text(line.amount, running.currency)) for line in running.lines),
    )
    return format_html(
        "<div><strong>{} – {}</strong> ({}): <strong>{}</strong> so far<table>{}</table></div>",
        f"{running.period_start:%Y-%m-%d}",
        f"{running.period_end:%Y-%m-%d}",
        running.subscription.external_id,
        money_text(running.total, running.currency),
        lines,
    )


def _recent(invoices: Any) -> str:
    rows = [
        format_html(
            "<div>{} · {} · {} · {}</div>",
            invoice_admin_link(invoice),
            f"{invoice.period_start:%Y-%m-%d}",
            invoice.get_status_display(),
            money_text(invoice.total, invoice.currency),
        )
        for invoice in invoices
    ]
    return format_html_join("", "{}", ((row,) for row in rows)) if rows else "No invoices yet."


class InvoicingSubscriptionAdmin(SubscriptionAdmin):
    def get_fieldsets(self, request: HttpRequest, obj: Subscription | None = None) -> list:
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None:
            fieldsets.append(("Billing", {"fields": [PANEL, RECENT]}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Subscription | None = None) -> list:
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, PANEL, RECENT] if obj is not None else fields

    @admin.display(description="Running period: amount so far")
    def running_period(self, obj: Subscription) -> str:
        if not obj.is_live:
            return f"None: the subscription is {obj.get_status_display().lower()}."
        return _panel(running_period_get(subscription=obj))

    @admin.display(description="Latest invoices")
    def recent_invoices(self, obj: Subscription) -> str:
        return _recent(
            Invoice.objects.filter(subscription=obj).order_by("-period_start", "-id")[:6]
        )


class InvoicingCustomerAdmin(Customer360Admin):
    """The customer 360 page (entitlements) with the running period's amount and invoices."""

    def get_fieldsets(self, request: HttpRequest, obj: Customer | None = None) -> list:
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None:
            fieldsets.append(("Billing", {"fields": [PANEL, RECENT]}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Customer | None = None) -> list:
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, PANEL, RECENT] if obj is not None else fields

    @admin.display(description="Running period: amount so far")
    def running_period(self, obj: Customer) -> str:
        running = running_periods_for_customer(customer=obj)
        if not running:
            return "No live subscription."
        return format_html_join("", "{}", ((_panel(r),) for r in running))

    @admin.display(description="Latest invoices")
    def recent_invoices(self, obj: Customer) -> str:
        recent = _recent(Invoice.objects.filter(customer=obj).order_by("-period_start", "-id")[:6])
        one_off = reverse("admin:invoices_one_off_invoice") + f"?customer={obj.pk}"
        return format_html('{}<div><a href="{}">New one-off invoice…</a></div>', recent, one_off)


for model, model_admin in (
    (Subscription, InvoicingSubscriptionAdmin),
    (Customer, InvoicingCustomerAdmin),
):
    admin.site.unregister(model)
    admin.site.register(model, model_admin)
