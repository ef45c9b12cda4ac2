"""Features, and their values on a plan version (the inline on the version page)."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest

from plans.admin._base import ServiceAdmin, changed_data
from plans.models import Feature, PlanFeature, PlanVersion
from plans.services import feature_create, feature_update

FEATURE_UPDATABLE_FIELDS = ("name", "description")  # slug, kind and metric are fixed


class FeatureForm(forms.ModelForm):
    class Meta:
        model = Feature
        fields = ("slug", "name", "kind", "metric", "description")
        widgets = {"description": forms.Textarea(attrs={"rows": 2, "cols": 60})}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "kind" not in self.fields:
            return cleaned
        kind, metric = cleaned.get("kind"), cleaned.get("metric")
        if kind == Feature.Kind.METERED and metric is None:
            self.add_error("metric", "A metered feature needs the metric it counts.")
        elif kind and kind != Feature.Kind.METERED and metric is not None:
            self.add_error("metric", "Only a metered feature counts a metric; clear it.")
        return cleaned


@admin.register(Feature)
class FeatureAdmin(ServiceAdmin):
    form = FeatureForm
    list_display = ["slug", "name", "kind", "metric", "published_versions"]
    list_display_links = ["slug", "name"]
    list_filter = ["kind"]
    list_select_related = ["metric"]
    search_fields = ["slug", "name"]
    search_help_text = "Search by slug or name."
    radio_fields = {"kind": admin.VERTICAL}
    fieldsets = [
        (None, {"fields": ["slug", "name", "description"]}),
        (
            "What it grants",
            {
                "fields": ["kind", "metric"],
                "description": "Code checks the slug, never plan names. Each plan version then "
                "gives the feature its value: on/off, a static value, or a metered limit.",
            },
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Feature]:
        on_published = PlanFeature.objects.filter(
            feature=OuterRef("pk"), version__status=PlanVersion.Status.PUBLISHED
        )
        counted = on_published.order_by().values("feature").annotate(n=Count("pk")).values("n")
        return (
            super()
            .get_queryset(request)
            .annotate(
                published_n=Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))
            )
        )

    @admin.display(description="On published versions", ordering="published_n")
    def published_versions(self, obj: Feature) -> int:
        return obj.published_n

    def get_readonly_fields(self, request: HttpRequest, obj: Feature | None = None) -> list[str]:
        # Code and plans rely on the slug and kind, and usage on the metric: fixed once created.
        return ["slug", "kind", "metric"] if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: Feature | None = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: Feature, form: forms.Form, change: bool
    ) -> None:
        if change:
            data = changed_data(form, FEATURE_UPDATABLE_FIELDS)
            if data:
                feature_update(feature=self.fresh(obj), data=data, actor=request.user)
            return
        data = form.cleaned_data
        created = feature_create(
            slug=data["slug"],
            name=data["name"],
            kind=data["kind"],
            metric=data.get("metric"),
            description=data.get("description", ""),
            actor=request.user,
        )
        self.adopt(obj, created)


class PlanFeatureForm(forms.ModelForm):
    class Meta:
        model = PlanFeature
        fields = ("feature", "enabled", "value", "limit", "reset_period", "cap", "alert_thresholds")
        widgets = {"value": forms.TextInput(attrs={"size": 10, "placeholder": "e.g. 10"})}
        help_texts = {
            "limit": "Blank: unlimited.",
            "value": "JSON, for a static feature.",
            "alert_thresholds": "Percents, comma-separated (80,100).",
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        feature: Feature | None = cleaned.get("feature")
        if feature is None or cleaned.get("DELETE"):
            return cleaned
        value, limit = cleaned.get("value"), cleaned.get("limit")
        if feature.kind == Feature.Kind.STATIC and value is None:
            self.add_error("value", f"The static feature {feature.slug} needs a value.")
        if feature.kind != Feature.Kind.STATIC and value is not None:
            self.add_error(
                "value", f"Only a static feature has a value; {feature.slug} is {feature.kind}."
            )
        if feature.kind != Feature.Kind.METERED and limit is not None:
            self.add_error(
                "limit", f"Only a metered feature has a limit; {feature.slug} is {feature.kind}."
            )
        return cleaned


class PlanFeatureInline(admin.TabularInline):
    """Saved by ``PlanVersionAdmin.save_formset`` through ``plan_feature_set``/``_remove``."""

    model = PlanFeature
    form = PlanFeatureForm
    fields = ["feature", "enabled", "value", "limit", "reset_period", "cap", "alert_thresholds"]
    extra = 0
    show_change_link = False
    verbose_name = "feature"
    verbose_name_plural = "Features (what the plan grants)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[PlanFeature]:
        return super().get_queryset(request).select_related("feature", "version")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is not None and not obj.is_draft:
            return list(self.fields)
        return []

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (obj is None or obj.is_draft) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (obj is None or obj.is_draft) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (obj is None or obj.is_draft) and super().has_delete_permission(request, obj)
