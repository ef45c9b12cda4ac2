"""Invoices in the admin: filters, lines with their arithmetic (never edited by hand: a draft is
recomputed, a finalized invoice is frozen), and finalize / void / mark paid / resync / recompute
as confirmed actions on the invoice's page, each through its service."""

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from billing_site.core.admin_confirm import confirm_action
from billing_site.core.admin_views import admin_path
from invoices.admin.emails import InvoiceEmailInline
from invoices.display import line_arithmetic, money_text
from invoices.models import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus
from invoices.printable import invoice_print_context
from invoices.services import (
    invoice_finalize,
    invoice_mark_paid,
    invoice_mark_uncollectible,
    invoice_recompute,
    invoice_void,
)
from invoices.services.emails import invoice_email_resend
from invoices.stripe_gateway import stripe_configured
from invoices.stripe_services import invoice_stripe_push
from invoices.transitions import INVOICE_TRANSITIONS


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    fk_name = "invoice"
    extra = 0
    can_delete = False
    fields = ["kind", "description", "quantity_text", "amount_text", "arithmetic", "events"]
    readonly_fields = fields
    verbose_name_plural = "Lines (computed by the billing run; a draft is recomputed, not edited)"

    @admin.display(description="Quantity")
    def quantity_text(self, line: InvoiceLine) -> str:
        return f"{line.quantity.normalize():,f}"

    @admin.display(description="Amount")
    def amount_text(self, line: InvoiceLine) -> str:
        return money_text(line.amount, line.invoice.currency)

    @admin.display(description="How it adds up")
    def arithmetic(self, line: InvoiceLine) -> str:
        return format_html_join(
            "", "<div>{}</div>", ((step,) for step in line_arithmetic(line, line.invoice.currency))
        )

    @admin.display(description="Events priced")
    def events(self, line: InvoiceLine) -> str:
        if not line.events_digest:
            return "—"
        return f"{line.event_count:,} (digest {line.events_digest[:10]}…)"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# action -> (title, question, needs a reason, allowed from statuses, perform(invoice, user, reason))
ObjectAction = tuple[str, str, bool, tuple[str, ...], Callable[[Invoice, Any, str], Any]]
OBJECT_ACTIONS: dict[str, ObjectAction] = {
    "recompute": (
        "Recompute draft",
        "Compute this draft's lines again from the usage and prices now in force?",
        False,
        (InvoiceStatus.DRAFT,),
        lambda invoice, user, reason: invoice_recompute(invoice=invoice, actor=user),
    ),
    "finalize": (
        "Finalize invoice",
        "Finalize this draft? Its lines are recomputed one last time and frozen, it gets the "
        "next invoice number, and (with Stripe configured) its payment is requested.",
        False,
        (InvoiceStatus.DRAFT,),
        lambda invoice, user, reason: invoice_finalize(invoice=invoice, actor=user),
    ),
    "mark_paid": (
        "Mark invoice paid",
        "Record that this invoice was paid outside Stripe?",
        True,
        (InvoiceStatus.FINALIZED, InvoiceStatus.UNCOLLECTIBLE),
        lambda invoice, user, reason: invoice_mark_paid(invoice=invoice, actor=user, reason=reason),
    ),
    "void": (
        "Void invoice",
        "Void this invoice? It keeps its number and lines but is no longer owed. This cannot "
        "be undone.",
        True,
        (InvoiceStatus.FINALIZED, InvoiceStatus.UNCOLLECTIBLE),
        lambda invoice, user, reason: invoice_void(invoice=invoice, actor=user, reason=reason),
    ),
    "uncollectible": (
        "Mark invoice uncollectible",
        "Record that this invoice will not be collected?",
        True,
        (InvoiceStatus.FINALIZED,),
        lambda invoice, user, reason: invoice_mark_uncollectible(
            invoice=invoice, actor=user, reason=reason
        ),
    ),
    "resync": (
        "Push to Stripe",
        "Request this invoice's payment in Stripe? A payment already requested is not "
        "requested again.",
        False,
        (InvoiceStatus.FINALIZED,),
        lambda invoice, user, reason: invoice_stripe_push(invoice_id=invoice.pk, actor=user),
    ),
    "resend_email": (
        "Resend e-mail",
        "E-mail this invoice to the customer again (the payment receipt when it is paid)?",
        False,
        (InvoiceStatus.FINALIZED, InvoiceStatus.PAID, InvoiceStatus.UNCOLLECTIBLE),
        lambda invoice, user, reason: invoice_email_resend(invoice=invoice, actor=user),
    ),
}


class StatusPeriodFilter(admin.SimpleListFilter):
    title = "period"
    parameter_name = "period"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        months = Invoice.objects.dates("period_start", "month", order="DESC")[:12]
        return [(f"{m:%Y-%m}", f"{m:%B %Y}") for m in months]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if not self.value():
            return queryset
        year, month = self.value().split("-")
        return queryset.filter(period_start__year=year, period_start__month=month)


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = [
        "label",
        "customer",
        "status",
        "kind",
        "period",
        "total_text",
        "due_at",
        "payment_status",
    ]
    list_filter = ["status", "kind", StatusPeriodFilter, "payment_status", "currency"]
    list_select_related = ["customer"]
    search_fields = [
        "number",
        "customer__external_id",
        "customer__name",
        "subscription__external_id",
    ]
    date_hierarchy = "period_start"
    inlines = [InvoiceLineInline, InvoiceEmailInline]
    change_form_template = "admin/invoices/invoice/change_form.html"
    fieldsets = [
        (None, {"fields": ["label", "status", "kind", "customer", "subscription", "version"]}),
        (
            "Amount",
            {
                "fields": [
                    "total_text",
                    "currency",
                    "payment_status",
                    "stripe_payment_intent_id",
                    "stripe_error",
                ]
            },
        ),
        (
            "Dates",
            {
                "fields": [
                    "period",
                    "issued_at",
                    "finalize_after",
                    "finalized_at",
                    "due_at",
                    "paid_at",
                    "voided_at",
                ]
            },
        ),
        ("History", {"fields": ["history"]}),
    ]
    readonly_fields = [
        "label",
        "status",
        "kind",
        "customer",
        "subscription",
        "version",
        "total_text",
        "currency",
        "payment_status",
        "stripe_payment_intent_id",
        "stripe_error",
        "period",
        "issued_at",
        "finalize_after",
        "finalized_at",
        "due_at",
        "paid_at",
        "voided_at",
        "history",
    ]

    @admin.display(description="Invoice", ordering="number")
    def label(self, obj: Invoice) -> str:
        return obj.number or f"Draft #{obj.pk}"

    @admin.display(description="Total", ordering="total")
    def total_text(self, obj: Invoice) -> str:
        return money_text(obj.total, obj.currency)

    @admin.display(description="Period", ordering="period_start")
    def period(self, obj: Invoice) -> str:
        return f"{obj.period_start:%Y-%m-%d %H:%M} – {obj.period_end:%Y-%m-%d %H:%M} UTC"

    @admin.display(description="What happened")
    def history(self, obj: Invoice) -> str:
        return format_html_join(
            "",
            "<div>{} · {} by {}{}</div>",
            (
                (
                    f"{event.created_at:%Y-%m-%d %H:%M}",
                    event.action.replace("status.", "→ "),
                    event.actor_label,
                    f" ({event.reason})" if event.reason else "",
                )
                for event in obj.events.all()
            ),
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # invoices come from the billing run

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # void instead: numbers have no gaps

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("invoices.change_invoice")

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        invoice = self.get_object(request, object_id)
        tools = []
        if invoice is not None and self.has_change_permission(request, invoice):
            for name, (title, _, _, statuses, _) in OBJECT_ACTIONS.items():
                if invoice.status not in statuses:
                    continue
                if name == "recompute" and invoice.kind == InvoiceKind.ONE_OFF:
                    continue  # its lines were set by staff, not computed from usage
                if name == "resync" and (
                    not stripe_configured() or invoice.stripe_payment_intent_id
                ):
                    continue
                tools.append(
                    (
                        title,
                        reverse("admin:invoices_invoice_object_action", args=[invoice.pk, name]),
                    )
                )
        extra = {
            "object_actions": tools,
            "print_url": reverse("admin:invoices_invoice_print", args=[object_id]),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra)

    def get_urls(self) -> list:
        return [
            admin_path(
                self,
                "<int:invoice_id>/do/<str:action>/",
                self.object_action_view,
                name="invoices_invoice_object_action",
                permission="invoices.change_invoice",
            ),
            admin_path(
                self,
                "<int:invoice_id>/print/",
                self.print_view,
                name="invoices_invoice_print",
                permission="invoices.view_invoice",
            ),
            *super().get_urls(),
        ]

    def object_action_view(
        self, request: HttpRequest, invoice_id: int, action: str
    ) -> HttpResponse:
        invoice = get_object_or_404(Invoice, pk=invoice_id)
        if action not in OBJECT_ACTIONS or not self.has_change_permission(request, invoice):
            return HttpResponseRedirect(reverse("admin:invoices_invoice_change", args=[invoice_id]))
        title, question, ask_reason, statuses, perform = OBJECT_ACTIONS[action]
        back = HttpResponseRedirect(reverse("admin:invoices_invoice_change", args=[invoice_id]))
        if invoice.status not in statuses:
            allowed = ", ".join(sorted(INVOICE_TRANSITIONS[invoice.status])) or "nothing"
            self.message_user(
                request,
                f"{invoice} is {invoice.status} (it can move to {allowed}).",
                messages.ERROR,
            )
            return back

        def run(obj: Invoice, reason: str = "") -> None:
            perform(obj, request.user, reason)
            self.log_change(request, obj, f"{title}{': ' + reason if reason else ''}")

        response = confirm_action(
            self,
            request,
            Invoice.objects.filter(pk=invoice_id),
            action=action,
            title=title,
            question=question,
            perform=run,
            items=[
                f"{invoice} — {invoice.customer} — {money_text(invoice.total, invoice.currency)}"
            ],
            ask_reason=ask_reason,
        )
        return response or back

    def print_view(self, request: HttpRequest, invoice_id: int) -> HttpResponse:
        invoice = get_object_or_404(
            Invoice.objects.select_related("customer", "subscription", "version__plan"),
            pk=invoice_id,
        )
        if not self.has_view_permission(request, invoice):
            return HttpResponseRedirect(reverse("admin:index"))
        return TemplateResponse(
            request, "invoices/invoice_print.html", invoice_print_context(invoice)
        )


def invoice_admin_link(invoice: Invoice) -> str:
    url = reverse("admin:invoices_invoice_change", args=[invoice.pk])
    return format_html('<a href="{}">{}</a>', url, invoice.number or f"Draft #{invoice.pk}")
