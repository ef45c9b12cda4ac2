"""The event browser.

It is built for a table of tens of millions of rows: it never counts the whole
table (a capped count, plus the planner's estimate when unfiltered), orders by the primary key
unless one customer is asked for, searches customer ids exactly (so the customer-led indexes
serve it), and offers no sortable columns, facets or date hierarchy that would scan it.
"""

import json
from datetime import timedelta

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.safestring import SafeString

from metering.admin._common import (
    MAX_SHORT_CHARS,
    CappedCountPaginator,
    ReadOnlyAdmin,
    cut,
    decoded,
    json_as_text,
    pretty_json,
)
from metering.models import (
    BillableMetric,
    Event,
)


class CodeFilter(admin.SimpleListFilter):
    """Metric codes from the metric catalog, not a DISTINCT over the events."""

    title = "metric"
    parameter_name = "code"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin):
        return list(BillableMetric.objects.order_by("code").values_list("code", "code"))

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(code=self.value()) if self.value() else queryset


class RecentFilter(admin.SimpleListFilter):
    title = "event time"
    parameter_name = "within"
    WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin):
        return [("24h", "Last 24 hours"), ("7d", "Last 7 days"), ("30d", "Last 30 days")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        window = self.WINDOWS.get(self.value() or "")
        if window is None:
            return queryset
        return queryset.filter(timestamp__gte=timezone.now() - window)


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = [
        "timestamp",
        "customer_id",
        "code",
        "transaction_id",
        "subscription_id",
        "member_id",
        "properties_short",
    ]
    list_display_links = ["timestamp"]
    list_filter = [CodeFilter, RecentFilter]
    search_fields = ["customer_id"]
    search_help_text = "The exact customer id (as sent, e.g. acme). Newest events first."
    sortable_by: tuple[str, ...] = ()
    paginator = CappedCountPaginator
    show_full_result_count = False
    list_per_page = 50
    fields = [
        "customer_id",
        "member_id",
        "subscription_id",
        "code",
        "transaction_id",
        "timestamp",
        "received_at",
        "properties_pretty",
        "payload_hash",
    ]
    readonly_fields = ["properties_pretty"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        # Exact, case-sensitive match, the way ingest stores ids, so the customer-led indexes
        # serve it (the admin's "=field" would be an UPPER() iexact that scans).
        term = search_term.strip()
        return (queryset.filter(customer_id=term) if term else queryset), False

    def get_ordering(self, request: HttpRequest) -> list[str]:
        # One customer's events are few and sit together in the usage index: show them by time.
        # Across all customers, the primary key (insertion order) is the cheap "newest first".
        if request.GET.get("q", "").strip():
            return ["-timestamp", "-id"]
        return ["-id"]

    class Media:
        css = {"all": ["metering/admin/events.css"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return json_as_text(super().get_queryset(request), "properties")

    @admin.display(description="Properties")
    def properties_short(self, obj: Event) -> str:
        properties = decoded(obj.properties_text)
        if not isinstance(properties, dict):
            return cut(str(properties or ""), MAX_SHORT_CHARS)
        text = ", ".join(
            f"{key}={value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}"
            for key, value in sorted(properties.items())
        )
        return cut(text, MAX_SHORT_CHARS)

    @admin.display(description="Properties")
    def properties_pretty(self, obj: Event) -> SafeString:
        return pretty_json(obj.properties_text)
