from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html_join

from invoices.models import BillingRun, StripeWebhookEvent


@admin.register(BillingRun)
class BillingRunAdmin(admin.ModelAdmin):
    list_display = [
        "started_at",
        "status",
        "subscriptions_due",
        "batches",
        "invoices_created",
        "errors_count",
        "duration",
    ]
    list_filter = ["status"]
    date_hierarchy = "started_at"
    fields = [
        "started_at",
        "finished_at",
        "status",
        "subscriptions_due",
        "batches",
        "invoices_created",
        "errors_count",
        "duration",
        "error_list",
    ]
    readonly_fields = fields

    @admin.display(description="Batches done")
    def batches(self, obj: BillingRun) -> str:
        return f"{obj.batches_done} of {obj.batches_total}"

    @admin.display(description="Duration")
    def duration(self, obj: BillingRun) -> str:
        seconds = obj.duration_seconds
        return "running" if seconds is None else f"{seconds:.1f} s"

    @admin.display(description="Errors")
    def error_list(self, obj: BillingRun) -> str:
        if not obj.errors:
            return "None"
        return format_html_join(
            "",
            "<p><strong>{}</strong>: {}</p>",
            ((e.get("subscription"), e.get("error")) for e in obj.errors),
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(StripeWebhookEvent)
class StripeWebhookEventAdmin(admin.ModelAdmin):
    list_display = ["received_at", "type", "stripe_id", "deliveries", "processed_at", "exception"]
    list_filter = ["type", "valid"]
    search_fields = ["stripe_id"]
    readonly_fields = [f.name for f in StripeWebhookEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
