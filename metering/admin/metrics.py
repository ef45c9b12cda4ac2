"""Billable metrics in the admin: freezing once in use, archive, preview, new metric from one."""

import json
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from billing_site.core.admin_confirm import confirm_action
from billing_site.core.admin_filters import set_or_not_filter
from billing_site.core.admin_views import admin_path
from metering.admin._common import PREVIEW_DAYS, events_url
from metering.models import (
    BillableMetric,
    Rounding,
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
    list_filter = [
        "aggregation",
        set_or_not_filter("archived_at", title="archived", set_label="Archived"),
    ]
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
            '<a href="{}">Browse this metric\'s events</a>', events_url(code=obj.code)
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
