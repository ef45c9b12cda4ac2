"""What ingest noticed: unknown customers, rejections, member aliases (read-only)."""

from typing import Any

from django.contrib import admin
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString

from billing_site.core.numbers import grouped_number
from metering.admin._common import (
    CappedCountPaginator,
    ReadOnlyAdmin,
    events_url,
    json_as_text,
    pretty_json,
)
from metering.models import (
    CustomerAlias,
    IngestRejection,
    UnknownCustomer,
)


@admin.register(UnknownCustomer)
class UnknownCustomerAdmin(ReadOnlyAdmin):
    list_display = [
        "customer_id",
        "first_seen_at",
        "last_seen_at",
        "events_counted",
        "events_link",
        "create_link",
    ]
    search_fields = ["customer_id"]
    search_help_text = "Customer ids that events used before any customer had them."
    fields = ["customer_id", "first_seen_at", "last_seen_at", "events_counted", "events_link"]
    readonly_fields = ["events_counted", "events_link"]

    # The catalog (a higher layer) owns customers: its add page is reached by URL name only, and
    # shown to whoever may add one. The id arrives prefilled; the add form is the confirmation.
    CUSTOMER_ADD_PERMISSION = "plans.add_customer"

    def _create_url(self, obj: UnknownCustomer) -> str:
        query = urlencode({"external_id": obj.customer_id})
        return f"{reverse('admin:plans_customer_add')}?{query}"

    def get_list_display(self, request: HttpRequest) -> list[str]:
        shown = list(super().get_list_display(request))
        if not request.user.has_perm(self.CUSTOMER_ADD_PERMISSION):
            shown.remove("create_link")
        return shown

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        obj = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if obj is not None and request.user.has_perm(self.CUSTOMER_ADD_PERMISSION):
            extra["create_customer_url"] = self._create_url(obj)
        return super().change_view(request, object_id, form_url, extra)

    @admin.display(description="Events", ordering="event_count")
    def events_counted(self, obj: UnknownCustomer) -> str:
        return grouped_number(obj.event_count)

    @admin.display(description="Customer")
    def create_link(self, obj: UnknownCustomer) -> str:
        return format_html(
            '<a href="{}" class="create-customer">Create customer…</a>', self._create_url(obj)
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # Once the catalog creates the customer (or maps the id to one as a member), the id is
        # known: hide it without waiting for anything to clean the table up.
        known = CustomerAlias.objects.filter(alias_id=OuterRef("customer_id"))
        return super().get_queryset(request).filter(~Exists(known))

    @admin.display(description="Their events")
    def events_link(self, obj: UnknownCustomer) -> str:
        return format_html('<a href="{}">Browse events</a>', events_url(q=obj.customer_id))


class RejectedFieldFilter(admin.SimpleListFilter):
    """The fields named by the latest rejections (a misbehaving client can leave millions)."""

    title = "field"
    parameter_name = "field"
    sample = 10_000

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin):
        recent = IngestRejection.objects.order_by("-received_at").values("pk")[: self.sample]
        fields = (
            IngestRejection.objects.filter(pk__in=recent)
            .order_by("field")
            .values_list("field", flat=True)
            .distinct()
        )
        return [(field, field) for field in fields]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(field=self.value()) if self.value() else queryset


@admin.register(IngestRejection)
class IngestRejectionAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "customer_id", "transaction_id", "code", "field", "reason"]
    list_filter = [RejectedFieldFilter]
    paginator = CappedCountPaginator
    show_full_result_count = False
    search_fields = ["=customer_id", "=transaction_id"]
    search_help_text = "The exact customer id or transaction id."
    ordering = ["-received_at", "-id"]
    fields = [
        "received_at",
        "api_key_prefix",
        "customer_id",
        "transaction_id",
        "code",
        "field",
        "reason",
        "payload_pretty",
    ]
    readonly_fields = ["payload_pretty"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return json_as_text(super().get_queryset(request), "payload")

    @admin.display(description="Payload as sent")
    def payload_pretty(self, obj: IngestRejection) -> SafeString:
        return pretty_json(obj.payload_text)


@admin.register(CustomerAlias)
class CustomerAliasAdmin(ReadOnlyAdmin):
    list_display = ["alias_id", "customer_id", "kind", "created_at"]
    list_filter = ["kind"]
    search_fields = ["=alias_id", "=customer_id"]
    search_help_text = "The exact id. The catalog keeps aliases in step with its customers."
