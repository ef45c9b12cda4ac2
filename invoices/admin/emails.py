"""The e-mails sent about an invoice, listed on its page (read-only: a resend is an action)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from invoices.models import InvoiceEmail


class InvoiceEmailInline(admin.TabularInline):
    model = InvoiceEmail
    extra = 0
    can_delete = False
    fields = ["created_at", "event", "resend", "recipient", "status", "sent_at", "error"]
    readonly_fields = fields
    verbose_name = "e-mail"
    verbose_name_plural = "E-mails sent to the customer"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
