"""The add-on catalog in the admin, and the page that makes a one-off invoice from it."""

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from billing_site.core.admin_views import admin_path
from invoices.admin.one_off import one_off_invoice_view
from invoices.display import money_text
from invoices.models import AddOn
from invoices.services.add_ons import add_on_save


@admin.register(AddOn)
class AddOnAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "price", "currency", "archived_at"]
    list_filter = ["currency", ("archived_at", admin.EmptyFieldListFilter)]
    search_fields = ["code", "name"]
    fields = ["code", "name", "amount", "currency", "description", "taxes", "archived_at"]
    filter_horizontal = ["taxes"]
    change_list_template = "admin/invoices/addon/change_list.html"

    @admin.display(description="Price per unit", ordering="amount")
    def price(self, obj: AddOn) -> str:
        return money_text(obj.amount, obj.currency)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # archive instead: issued invoices point at their add-ons

    def save_model(self, request: HttpRequest, obj: AddOn, form: Any, change: bool) -> None:
        try:
            add_on_save(add_on=obj, actor=request.user)
        except ValidationError as error:
            self.message_user(request, "; ".join(error.messages), messages.ERROR)

    def get_urls(self) -> list:
        return [
            admin_path(
                self,
                "one-off-invoice/",
                self.one_off_view,
                name="invoices_one_off_invoice",
                permission="invoices.add_invoice",
            ),
            *super().get_urls(),
        ]

    def one_off_view(self, request: HttpRequest) -> HttpResponse:
        return one_off_invoice_view(self, request)
