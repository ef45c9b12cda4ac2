"""The event browser.

It is built for a table of tens of millions of rows: it never counts the whole
table (a capped count, plus the planner's estimate when unfiltered), orders by the primary key
unless one customer is asked for, searches customer ids exactly (so the customer-led indexes
serve it), and offers no sortable columns, facets or date hierarchy that would scan it.
"""

import csv
import json
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString

from billing_site.core.admin_views import admin_path
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
from metering.selectors import usage_get

EXPORT_LIMIT = 100_000  # rows in one CSV export; narrow the filter for more


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


def _day_start(text: str | None) -> datetime | None:
    try:
        day = parse_date(text or "") if text else None
    except ValueError:  # well formed but not a day, e.g. 2026-02-30
        return None
    if day is None or not 1970 <= day.year <= 2099:
        return None
    return datetime.combine(day, time.min, tzinfo=UTC)


class DateRangeFilter(admin.ListFilter):
    """A custom range of event days, `from` inclusive and `to` inclusive (UTC days)."""

    title = "custom range (UTC days)"
    template = "admin/metering/date_range_filter.html"
    parameters = ("from", "to")

    def __init__(self, request, params, model, model_admin) -> None:
        super().__init__(request, params, model, model_admin)
        self.values = {}
        for name in self.parameters:
            if name in params:
                value = params.pop(name)
                self.values[name] = value[-1] if isinstance(value, list) else value
                self.used_parameters[name] = self.values[name]

    @property
    def window(self) -> tuple[datetime | None, datetime | None]:
        start = _day_start(self.values.get("from"))
        last_day = _day_start(self.values.get("to"))
        return start, (last_day + timedelta(days=1) if last_day else None)

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str]:
        return list(self.parameters)

    def choices(self, changelist):
        yield {"values": self.values, "reset": changelist.get_query_string(remove=self.parameters)}

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        start, end = self.window
        if start:
            queryset = queryset.filter(timestamp__gte=start)
        if end:
            queryset = queryset.filter(timestamp__lt=end)
        return queryset


def selection_window(request: HttpRequest) -> tuple[datetime, datetime]:
    """The time window the browser's filters select, for totals: the custom range, else the
    preset, else the last 30 days."""
    now = timezone.now()
    start = _day_start(request.GET.get("from"))
    last_day = _day_start(request.GET.get("to"))
    end = last_day + timedelta(days=1) if last_day else now + timedelta(seconds=1)
    if start is None:
        window = RecentFilter.WINDOWS.get(request.GET.get("within", ""), timedelta(days=30))
        start = end - window if last_day else now - window
    return start, end


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = [
        "timestamp",
        "customer_link",
        "metric_link",
        "transaction_id",
        "subscription_id",
        "member_id",
        "properties_short",
    ]
    list_display_links = ["timestamp"]
    list_filter = [CodeFilter, RecentFilter, DateRangeFilter]
    search_fields = ["customer_id"]
    search_help_text = "The exact customer id (as sent, e.g. acme). Newest events first."
    sortable_by: tuple[str, ...] = ()
    paginator = CappedCountPaginator
    show_full_result_count = False
    list_per_page = 50
    fields = [
        "customer_page",
        "metric_page",
        "member_id",
        "subscription_id",
        "code",
        "transaction_id",
        "timestamp",
        "received_at",
        "properties_pretty",
        "payload_hash",
    ]
    readonly_fields = ["properties_pretty", "customer_page", "metric_page"]

    @admin.display(description="Customer")
    def customer_page(self, obj: Event) -> str:
        # The catalog's customer page is found by its search (metering cannot import the catalog).
        customers = reverse("admin:index") + "plans/customer/?" + urlencode({"q": obj.customer_id})
        events = (
            reverse("admin:metering_event_changelist") + "?" + urlencode({"q": obj.customer_id})
        )
        return format_html(
            '{} · <a href="{}">customer page</a> · <a href="{}">all its events</a>',
            obj.customer_id,
            customers,
            events,
        )

    @admin.display(description="Metric")
    def metric_page(self, obj: Event) -> str:
        metric = BillableMetric.objects.filter(code=obj.code).only("pk", "name").first()
        if metric is None:
            return obj.code
        url = reverse("admin:metering_billablemetric_change", args=[metric.pk])
        return format_html('<a href="{}">{} ({})</a>', url, metric.name, obj.code)

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

    change_list_template = "admin/metering/event/change_list.html"

    def get_urls(self) -> list:
        return [
            admin_path(
                self,
                "export.csv",
                self.export_view,
                name="metering_event_export",
                permission="metering.view_event",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        response = super().changelist_view(request, extra_context)
        if isinstance(response, TemplateResponse):
            response.context_data["usage_total"] = self._usage_total(request)
            query = request.GET.urlencode()
            response.context_data["export_url"] = reverse("admin:metering_event_export") + (
                f"?{query}" if query else ""
            )
            response.context_data["export_limit"] = EXPORT_LIMIT
        return response

    def _usage_total(self, request: HttpRequest) -> dict | None:
        """The selected customer's usage of the selected metric over the selected window, from
        metering's usage selector (rollups), so nothing is counted by loading rows."""
        customer_id = request.GET.get("q", "").strip()
        code = request.GET.get("code", "")
        if not customer_id or not code:
            return None
        metric = BillableMetric.objects.filter(code=code).first()
        if metric is None:
            return None
        start, end = selection_window(request)
        usage = usage_get(metric=metric, customer_id=customer_id, start=start, end=end)
        return {
            "metric": metric,
            "customer_id": customer_id,
            "start": start,
            "end": end,
            "quantity": usage.quantity,
            "event_count": usage.event_count,
        }

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """The filtered selection as CSV, streamed, at most EXPORT_LIMIT rows."""
        changelist = self.get_changelist_instance(request)
        queryset = changelist.get_queryset(request)[:EXPORT_LIMIT]
        columns = ["timestamp", "customer_id", "code", "transaction_id", "subscription_id"]

        def rows() -> Iterator[str]:
            writer = csv.writer(_Echo())
            yield writer.writerow([*columns, "member_id", "properties"])
            for event in queryset.iterator(chunk_size=2000):
                yield writer.writerow(
                    [
                        event.timestamp.isoformat(),
                        event.customer_id,
                        event.code,
                        event.transaction_id,
                        event.subscription_id or "",
                        event.member_id or "",
                        event.properties_text or "",
                    ]
                )

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="events-{stamp}.csv"'
        return response

    @admin.display(description="Customer")
    def customer_link(self, obj: Event) -> str:
        url = reverse("admin:metering_event_changelist") + "?" + urlencode({"q": obj.customer_id})
        return format_html(
            '<a href="{}" title="This customer\'s events">{}</a>', url, obj.customer_id
        )

    @admin.display(description="Metric")
    def metric_link(self, obj: Event) -> str:
        url = reverse("admin:metering_billablemetric_changelist") + "?" + urlencode({"q": obj.code})
        return format_html('<a href="{}">{}</a>', url, obj.code)

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


class _Echo:
    """A file-like object whose write returns the line, for csv.writer in a stream."""

    def write(self, value: str) -> str:
        return value
