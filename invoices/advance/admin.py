"""Pay-in-advance fees in the admin: a read-only list of what each event billed, and on which
fee invoice. Fees are made by the beat task only, never by hand."""

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from invoices.advance.models import AdvanceFee
from invoices.display import money_text


@admin.register(AdvanceFee)
class AdvanceFeeAdmin(admin.ModelAdmin):
    list_display = [
        "event_timestamp",
        "customer",
        "description",
        "transaction_id",
        "units_text",
        "amount_text",
        "invoice_link",
    ]
    list_filter = ["metric_code", ("invoice", admin.EmptyFieldListFilter)]
    list_select_related = ["customer", "invoice"]
    search_fields = ["customer__external_id", "transaction_id", "subscription__external_id"]
    search_help_text = "Search by customer, subscription or event (transaction) id."
    date_hierarchy = "event_timestamp"
    fields = [
        "customer",
        "subscription",
        "description",
        "transaction_id",
        "event_timestamp",
        "billing_period",
        "units_text",
        "high_water_text",
        "amount_text",
        "amount_precise",
        "invoice_link",
        "created_at",
    ]
    readonly_fields = fields

    @admin.display(description="Units billed")
    def units_text(self, obj: AdvanceFee) -> str:
        return f"{obj.units.normalize():f}"

    @admin.display(description="High-water mark before → after")
    def high_water_text(self, obj: AdvanceFee) -> str:
        before = obj.high_water_before
        return f"{before.normalize():f} → {(before + obj.units).normalize():f}"

    @admin.display(description="Amount", ordering="amount")
    def amount_text(self, obj: AdvanceFee) -> str:
        return money_text(obj.amount, obj.currency)

    @admin.display(description="Billing period")
    def billing_period(self, obj: AdvanceFee) -> str:
        return f"{obj.period_start:%Y-%m-%d %H:%M} – {obj.period_end:%Y-%m-%d %H:%M} UTC"

    @admin.display(description="Fee invoice")
    def invoice_link(self, obj: AdvanceFee) -> str:
        if obj.invoice_id is None:
            return "Not invoiced yet"
        url = reverse("admin:invoices_invoice_change", args=[obj.invoice_id])
        return format_html('<a href="{}">{}</a>', url, obj.invoice)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
