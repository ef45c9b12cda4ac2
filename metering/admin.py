"""Metering in the admin: billable metrics, and read-only views of what ingest stored or refused.

The event browser is built for a table of tens of millions of rows: it never counts the whole
table (a capped count, plus the planner's estimate when unfiltered), orders by the primary key
unless one customer is asked for, searches customer ids exactly (so the customer-led indexes
serve it), and offers no sortable columns, facets or date hierarchy that would scan it.
"""

import json
from datetime import timedelta
from functools import cached_property
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import ShowFacets
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Exists, OuterRef, QuerySet, TextField
from django.db.models.functions import Cast
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe

from billing_site.core.admin_confirm import confirm_action
from billing_site.core.admin_views import admin_path
from billing_site.core.json_limits import json_too_deep
from metering.models import (
    BillableMetric,
    CustomerAlias,
    Event,
    IngestRejection,
    Rounding,
    UnknownCustomer,
)
from metering.selectors import usage_get
from metering.services import (
    billable_metric_archive,
    billable_metric_create,
    billable_metric_delete,
    billable_metric_unarchive,
    billable_metric_update,
    metric_usage_described,
    metric_used_by,
)
from metering.services.metrics import FROZEN_ONCE_USED

METRIC_FIELDS = (
    "code",
    "name",
    "description",
    "aggregation",
    "field_name",
    "filters",
    "weights",
    "recurring",
    "weighted_sum_mode",
    "rounding",
    "rounding_precision",
)


# Stored JSON is read as text (`json_text`), never decoded by the database driver: an event
# stored before ingest bounded nesting may be hundreds of levels deep, which Python's decoder
# cannot take. Text is decoded here only when shallow enough, and always shown escaped and cut.
PREVIEW_DAYS = 30
MAX_SHOWN_CHARS = 16 * 1024
MAX_SHORT_CHARS = 60
MAX_DECODED_DEPTH = 200


def _decoded(text: str | None) -> object:
    """The JSON value of `text`, or the text itself when too deep to decode safely."""
    if text is None:
        return None
    if json_too_deep(text.encode(), limit=MAX_DECODED_DEPTH):
        return text
    return json.loads(text)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _pretty_json(text: str | None) -> SafeString:
    value = _decoded(text)
    if value in (None, {}, []):
        return format_html('<span class="quiet">{}</span>', "—")
    if isinstance(value, str):
        shown = f"(nested more than {MAX_DECODED_DEPTH} levels; shown as stored)\n{value}"
    else:
        shown = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return format_html(
        '<pre style="margin:0;white-space:pre-wrap">{}</pre>', _cut(shown, MAX_SHOWN_CHARS)
    )


def _json_as_text(queryset: QuerySet, field: str) -> QuerySet:
    return queryset.defer(field).annotate(**{f"{field}_text": Cast(field, TextField())})


def _events_url(**params: str) -> str:
    return f"{reverse('admin:metering_event_changelist')}?{urlencode(params)}"


class JsonTextarea(forms.Textarea):
    """A JSON field shown indented, in a monospace box sized to its content."""

    def __init__(self, rows: int = 3) -> None:
        super().__init__(attrs={"rows": rows, "cols": 60, "style": "font-family: monospace"})

    def format_value(self, value: Any) -> str | None:
        try:
            parsed = json.loads(value) if isinstance(value, str) else value
        except ValueError:
            return value  # invalid JSON comes back to the user as they typed it
        if parsed in (None, {}):
            return "" if parsed is None else "{}"
        return json.dumps(parsed, indent=2, ensure_ascii=False)


class BillableMetricForm(forms.ModelForm):
    class Meta:
        model = BillableMetric
        fields = METRIC_FIELDS
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2, "cols": 60}),
            "filters": JsonTextarea(),
            "weights": JsonTextarea(),
        }


@admin.register(BillableMetric)
class BillableMetricAdmin(admin.ModelAdmin):
    form = BillableMetricForm
    list_display = [
        "code",
        "name",
        "aggregation",
        "property_display",
        "filters_summary",
        "rounding_summary",
        "archived",
    ]
    list_display_links = ["code", "name"]
    list_filter = ["aggregation", ("archived_at", admin.EmptyFieldListFilter)]
    search_fields = ["code", "name"]
    search_help_text = "Search by code or name."
    readonly_fields = [
        "events_link",
        "used_in",
        "preview",
        "archived_at",
        "created_at",
        "updated_at",
    ]
    actions = ["archive_selected", "unarchive_selected"]
    fieldsets = [
        (None, {"fields": ["code", "name", "description"]}),
        (
            "What is measured",
            {
                "fields": [
                    "aggregation",
                    "field_name",
                    "filters",
                    "weights",
                    "recurring",
                    "weighted_sum_mode",
                ],
                "description": "Count needs no property; every other aggregation reads one "
                "numeric property of each event (unique count: any value). A recurring "
                "unique count reads each event's operation_type property (add, the default, "
                "or remove).",
            },
        ),
        ("Rounding of the result", {"fields": ["rounding", "rounding_precision"]}),
        (
            "Usage",
            {
                "fields": [
                    "used_in",
                    "preview",
                    "events_link",
                    "archived_at",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]

    @admin.display(description="Property", ordering="field_name")
    def property_display(self, obj: BillableMetric) -> str:
        return obj.field_name or "—"

    @admin.display(description="Filters")
    def filters_summary(self, obj: BillableMetric) -> str:
        if not obj.filters:
            return "—"
        return " · ".join(
            f"{key} ∈ {', '.join(str(v) for v in values)}" for key, values in obj.filters.items()
        )

    @admin.display(description="Rounding")
    def rounding_summary(self, obj: BillableMetric) -> str:
        if obj.rounding == Rounding.NONE:
            return "—"
        places = obj.rounding_precision
        if places < 0:
            return f"{obj.rounding} to the nearest {10**-places:,}"
        return f"{obj.rounding} to {places} decimal place{'' if places == 1 else 's'}"

    @admin.display(description="Archived", boolean=True)
    def archived(self, obj: BillableMetric) -> bool:
        return obj.is_archived

    @admin.display(description="Used in")
    def used_in(self, obj: BillableMetric) -> str:
        if not obj.pk:
            return "—"
        lines = metric_usage_described(metric=obj)
        if not lines:
            return "No plan version or feature uses this metric."
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines))

    @admin.display(description="Preview")
    def preview(self, obj: BillableMetric) -> str:
        if not obj.pk:
            return "Save the metric to preview what it counts."
        url = reverse("admin:metering_billablemetric_preview", args=[obj.pk])
        return format_html(
            '<span class="help">What this metric counts for one customer over the last '
            f"{PREVIEW_DAYS} days:</span> "
            '<input type="text" name="customer" form="metric-preview" placeholder="customer id"> '
            '<button type="submit" form="metric-preview" formaction="{}" formmethod="get">'
            "Preview</button>",
            url,
        )

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        # The preview's form is outside the change form (forms cannot nest); its fields point
        # at it with form="metric-preview".
        extra = {**(extra_context or {}), "metric_preview_form": True}
        return super().change_view(request, object_id, form_url, extra)

    def get_urls(self) -> list:
        return [
            admin_path(
                self,
                "<path:object_id>/preview/",
                self.preview_view,
                name="metering_billablemetric_preview",
                permission="metering.view_billablemetric",
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        metric = self.get_object(request, object_id)
        if metric is None:
            raise Http404("No such metric.")
        back = reverse("admin:metering_billablemetric_change", args=[metric.pk])
        customer_id = request.GET.get("customer", "").strip()[:255].replace("\x00", "")
        if not customer_id:
            self.message_user(request, "Give a customer id to preview.", messages.ERROR)
            return HttpResponseRedirect(back)
        end = timezone.now()
        result = usage_get(
            metric=metric,
            customer_id=customer_id,
            start=end - timedelta(days=PREVIEW_DAYS),
            end=end,
        )
        level = messages.INFO if result.event_count else messages.WARNING
        note = (
            "" if result.event_count else " Nothing matched: check the code, filters and property."
        )
        self.message_user(
            request,
            f"{metric.code} for {customer_id} over the last {PREVIEW_DAYS} days: "
            f"{result.quantity} from {result.event_count} events.{note}",
            level,
        )
        return HttpResponseRedirect(back)

    @admin.action(description="Archive selected metrics", permissions=["change"])
    def archive_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return confirm_action(
            self,
            request,
            queryset,
            action="archive_selected",
            title="Archive metrics",
            question="New charges will not offer these metrics; charges and features that use "
            "them go on billing them.",
            perform=lambda metric: billable_metric_archive(metric=metric, actor=request.user),
        )

    @admin.action(description="Unarchive selected metrics", permissions=["change"])
    def unarchive_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return confirm_action(
            self,
            request,
            queryset,
            action="unarchive_selected",
            title="Unarchive metrics",
            question="New charges will offer these metrics again.",
            perform=lambda metric: billable_metric_unarchive(metric=metric, actor=request.user),
        )

    @admin.display(description="Events")
    def events_link(self, obj: BillableMetric) -> str:
        if not obj.pk:
            return "—"
        return format_html(
            '<a href="{}">Browse this metric\'s events</a>', _events_url(code=obj.code)
        )

    def metric_uses(self, request: HttpRequest, obj: BillableMetric) -> list[str]:
        """What uses the metric ("events", "charges"): asked once per request and metric."""
        cache = request.__dict__.setdefault("_metering_metric_uses", {})
        if obj.pk not in cache:
            # The events check is one EXISTS by code, which may scan (the event table's keys
            # lead with customer_id); acceptable on one change page, the only place that asks.
            cache[obj.pk] = metric_used_by(metric=obj)
        return cache[obj.pk]

    def get_readonly_fields(self, request: HttpRequest, obj: BillableMetric | None = None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.pk and self.metric_uses(request, obj):
            readonly = [*FROZEN_ONCE_USED, *readonly]
        return readonly

    def get_fieldsets(self, request: HttpRequest, obj: BillableMetric | None = None):
        fieldsets = super().get_fieldsets(request, obj)
        uses = self.metric_uses(request, obj) if obj is not None and obj.pk else []
        if uses:
            name, options = fieldsets[1]
            note = format_html(
                "{} use this metric: what it measures (code, aggregation, property, filters, "
                "weights, rounding) is fixed, because changing it would change what was already "
                'measured and billed. <a href="{}">New metric from this one</a> to measure '
                "differently, then use it in a new plan version.",
                " and ".join(uses).capitalize(),
                self._copy_url(obj),
            )
            fieldsets = [fieldsets[0], (name, {**options, "description": note}), *fieldsets[2:]]
        return fieldsets

    def _copy_url(self, metric: BillableMetric) -> str:
        initial = {
            "code": f"{metric.code}.v2",
            "name": f"{metric.name} (v2)",
            "description": metric.description,
            "aggregation": metric.aggregation,
            "field_name": metric.field_name,
            "filters": json.dumps(metric.filters or {}),
            "weights": json.dumps(metric.weights) if metric.weights is not None else "",
            "rounding": metric.rounding,
            "rounding_precision": str(metric.rounding_precision),
        }
        return f"{reverse('admin:metering_billablemetric_add')}?{urlencode(initial)}"

    def save_model(
        self, request: HttpRequest, obj: BillableMetric, form: forms.ModelForm, change: bool
    ) -> None:
        data = {
            name: form.cleaned_data[name] for name in METRIC_FIELDS if name in form.cleaned_data
        }
        if "filters" in data and data["filters"] is None:
            data["filters"] = {}
        try:
            if change:
                billable_metric_update(metric=obj, actor=request.user, **data)
            else:
                created = billable_metric_create(actor=request.user, **data)
                obj.pk = created.pk
                obj._state.adding = False
        except ValidationError as error:
            # Only a race gets here (the form already ran the model's checks, and fields in
            # use are read-only): say why, and show the form again.
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            request._metering_save_failed = True  # type: ignore[attr-defined]

    def _back_to_form_if_failed(self, request: HttpRequest) -> HttpResponse | None:
        if getattr(request, "_metering_save_failed", False):
            return HttpResponseRedirect(request.get_full_path())
        return None

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        if getattr(request, "_metering_save_failed", False):
            return None
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        if getattr(request, "_metering_save_failed", False):
            return None
        return super().log_change(request, obj, message)

    def response_add(
        self, request: HttpRequest, obj: BillableMetric, post_url_continue: str | None = None
    ) -> HttpResponse:
        return self._back_to_form_if_failed(request) or super().response_add(
            request, obj, post_url_continue
        )

    def response_change(self, request: HttpRequest, obj: BillableMetric) -> HttpResponse:
        return self._back_to_form_if_failed(request) or super().response_change(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: BillableMetric | None = None):
        # Only a metric nothing uses, one at a time from its page (events and charges refer to
        # a metric by its code, forever).
        if obj is None or not obj.pk or self.metric_uses(request, obj):
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: BillableMetric) -> None:
        billable_metric_delete(metric=obj, actor=request.user)


class ReadOnlyAdmin(admin.ModelAdmin):
    """A view-only admin: rows are written by ingest and the catalog, never by hand."""

    actions = None
    show_facets = ShowFacets.NEVER

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# ---------------------------------------------------------------------------------------------
# The event browser


class CappedCountPaginator(Paginator):
    """Counts at most `cap + 1` rows (`SELECT count(*) FROM (SELECT ... LIMIT cap + 1)`), so a
    page costs the same on ten rows or ten million; pages beyond the cap are reached by
    narrowing the filters. Unfiltered, the label adds the planner's estimate of the table size.
    """

    cap = 10_000

    @cached_property
    def count(self) -> int:
        # The page's ordering is kept in the counted subquery, so the count reads what paging
        # to the last capped page would (newest first through the primary key, say).
        return self.object_list[: self.cap + 1].count()

    @property
    def is_capped(self) -> bool:
        return self.count > self.cap

    @cached_property
    def estimated_total(self) -> int | None:
        """The table's row estimate from the planner's statistics when nothing is filtered."""
        query = self.object_list.query
        if query.where or not self.is_capped:
            return None
        with connections[self.object_list.db].cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                [query.model._meta.db_table],
            )
            row = cursor.fetchone()
        return row[0] if row and row[0] > self.cap else None

    @property
    def count_label(self) -> str:
        if not self.is_capped:
            return f"{self.count:,}"
        if self.estimated_total:
            return f"about {self.estimated_total:,}"
        return f"more than {self.cap:,}"


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
        return _json_as_text(super().get_queryset(request), "properties")

    @admin.display(description="Properties")
    def properties_short(self, obj: Event) -> str:
        properties = _decoded(obj.properties_text)
        if not isinstance(properties, dict):
            return _cut(str(properties or ""), MAX_SHORT_CHARS)
        text = ", ".join(
            f"{key}={value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}"
            for key, value in sorted(properties.items())
        )
        return _cut(text, MAX_SHORT_CHARS)

    @admin.display(description="Properties")
    def properties_pretty(self, obj: Event) -> SafeString:
        return _pretty_json(obj.properties_text)


# ---------------------------------------------------------------------------------------------
# What ingest noticed


@admin.register(UnknownCustomer)
class UnknownCustomerAdmin(ReadOnlyAdmin):
    list_display = ["customer_id", "first_seen_at", "last_seen_at", "event_count", "events_link"]
    search_fields = ["customer_id"]
    search_help_text = "Customer ids that events used before any customer had them."
    fields = ["customer_id", "first_seen_at", "last_seen_at", "event_count", "events_link"]
    readonly_fields = ["events_link"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # Once the catalog creates the customer (or maps the id to one as a member), the id is
        # known: hide it without waiting for anything to clean the table up.
        known = CustomerAlias.objects.filter(alias_id=OuterRef("customer_id"))
        return super().get_queryset(request).filter(~Exists(known))

    @admin.display(description="Events")
    def events_link(self, obj: UnknownCustomer) -> str:
        return format_html('<a href="{}">Browse events</a>', _events_url(q=obj.customer_id))


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
        return _json_as_text(super().get_queryset(request), "payload")

    @admin.display(description="Payload as sent")
    def payload_pretty(self, obj: IngestRejection) -> SafeString:
        return _pretty_json(obj.payload_text)


@admin.register(CustomerAlias)
class CustomerAliasAdmin(ReadOnlyAdmin):
    list_display = ["alias_id", "customer_id", "kind", "created_at"]
    list_filter = ["kind"]
    search_fields = ["=alias_id", "=customer_id"]
    search_help_text = "The exact id. The catalog keeps aliases in step with its customers."
