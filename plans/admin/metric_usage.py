"""The metrics list with where each metric is used: the plans that charge it.

Metering cannot import the catalog (apps depend downwards), so the catalog's admin re-registers
the metric admin with one more column, read from one annotated subquery (no query per row).
"""

from django.contrib import admin
from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html_join

from metering.admin.metrics import BillableMetricAdmin
from metering.models import BillableMetric
from plans.models import Charge, PlanVersion

IN_USE = (PlanVersion.Status.PUBLISHED, PlanVersion.Status.DRAFT)


class CatalogMetricAdmin(BillableMetricAdmin):
    list_display = [*BillableMetricAdmin.list_display, "used_by_plans"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[BillableMetric]:
        codes = (
            Charge.objects.filter(metric=OuterRef("pk"), version__status__in=IN_USE)
            .order_by()
            .values("metric")
            .annotate(
                codes=ArrayAgg("version__plan__code", distinct=True, order_by="version__plan__code")
            )
            .values("codes")
        )
        return super().get_queryset(request).annotate(plan_codes=Subquery(codes))

    @admin.display(description="Used by plans")
    def used_by_plans(self, obj: BillableMetric) -> str:
        codes = getattr(obj, "plan_codes", None) or []
        if not codes:
            return "no plan"
        changelist = reverse("admin:plans_plan_changelist")
        return format_html_join(
            ", ", '<a href="{}?q={}">{}</a>', ((changelist, code, code) for code in codes)
        )


admin.site.unregister(BillableMetric)
admin.site.register(BillableMetric, CatalogMetricAdmin)
