"""Plans and their versions in the admin.

A version is edited only while it is a draft. A published or archived version shows every field
and inline read-only and offers the next steps instead: a new draft from it, a comparison with
another version, archiving, moving its subscriptions. Every write goes through
``plans.services``; the custom pages live in ``plans/admin/version_views.py``.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from billing_site.core.admin_views import admin_path
from plans.admin import version_views
from plans.admin._base import ServiceAdmin, changed_data
from plans.admin.catalog_text import BaseFeeColumn, PlanPriceColumn
from plans.admin.charge_inline import DraftChargeEditing, charge_rows_save
from plans.admin.display import charge_properties_html, example_text
from plans.admin.features import PlanFeatureInline
from plans.admin.forms import PLAN_FEATURE_FIELDS, VERSION_FIELDS
from plans.models import Charge, Plan, PlanFeature, PlanVersion, Subscription
from plans.selectors import soft_caps_without_charge
from plans.services import (
    charge_delete,
    plan_create,
    plan_feature_remove,
    plan_feature_set,
    plan_update,
    plan_version_create_draft,
    plan_version_draft_delete,
    plan_version_update,
)

LIVE = (Subscription.Status.TRIALING, Subscription.Status.ACTIVE)
LIFECYCLE_FIELDS = ("published_at", "published_by", "archived_at")


def _count(queryset: QuerySet, group_by: str) -> Coalesce:
    """A correlated COUNT subquery (no join, so several counts never multiply each other)."""
    counted = queryset.order_by().values(group_by).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _version_number(plan_status: str) -> Subquery:
    versions = PlanVersion.objects.filter(plan=OuterRef("pk"), status=plan_status)
    return Subquery(versions.order_by("-number").values("number")[:1])


def version_url(version: PlanVersion | int) -> str:
    pk = version if isinstance(version, int) else version.pk
    return reverse("admin:plans_planversion_change", args=[pk])


FIRST_VERSION_FIELDS = ("currency", "interval", "base_fee", "base_fee_in_advance", "trial_days")


class PlanForm(forms.ModelForm):
    """The plan, and on creation the terms of its first (draft) version."""

    currency = PlanVersion._meta.get_field("currency").formfield()
    interval = PlanVersion._meta.get_field("interval").formfield()
    base_fee = PlanVersion._meta.get_field("base_fee").formfield()
    base_fee_in_advance = PlanVersion._meta.get_field("base_fee_in_advance").formfield()
    trial_days = PlanVersion._meta.get_field("trial_days").formfield()

    class Meta:
        model = Plan
        fields = ("code", "name", "description")
        widgets = {"description": forms.Textarea(attrs={"rows": 2, "cols": 60})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:  # versions are edited on their own pages
            for name in FIRST_VERSION_FIELDS:
                self.fields.pop(name)


class VersionInline(BaseFeeColumn, admin.TabularInline):
    model = PlanVersion
    fields = ["number", "status", "currency", "base_fee_money", "live_subscriptions"]
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False
    verbose_name_plural = "Versions"

    def get_queryset(self, request: HttpRequest) -> QuerySet[PlanVersion]:
        live = Subscription.objects.filter(version=OuterRef("pk"), status__in=LIVE)
        return (
            super()
            .get_queryset(request)
            .select_related("plan")
            .annotate(live_count=_count(live, "version"))
        )

    @admin.display(description="Live subscriptions")
    def live_subscriptions(self, obj: PlanVersion) -> int:
        return obj.live_count

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Plan)
class PlanAdmin(PlanPriceColumn, ServiceAdmin):
    form = PlanForm
    list_display = ["code", "name", "price", "latest_published", "draft", "live_subscriptions"]
    list_display_links = ["code", "name"]
    search_fields = ["code", "name"]
    search_help_text = "Search by code or name."
    inlines = [VersionInline]
    change_form_template = "admin/plans/plan/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Plan]:
        live = Subscription.objects.filter(version__plan=OuterRef("pk"), status__in=LIVE)
        return (
            super()
            .get_queryset(request)
            .annotate(
                latest_published_number=_version_number(PlanVersion.Status.PUBLISHED),
                draft_number=_version_number(PlanVersion.Status.DRAFT),
                live_count=_count(live, "version__plan"),
            )
        )

    def get_inlines(self, request: HttpRequest, obj: Plan | None) -> list:
        return self.inlines if obj is not None else []

    def get_prepopulated_fields(self, request: HttpRequest, obj: Plan | None = None) -> dict:
        return {"code": ("name",)} if obj is None else {}  # the code is fixed once created

    def get_fieldsets(self, request: HttpRequest, obj: Plan | None = None) -> list:
        plan = (None, {"fields": ["code", "name", "description"]})
        if obj is not None:
            return [plan]
        first = (
            "First version (a draft you can complete with charges and features, then publish)",
            {"fields": list(FIRST_VERSION_FIELDS)},
        )
        return [plan, first]

    def get_readonly_fields(self, request: HttpRequest, obj: Plan | None = None) -> list[str]:
        return ["code"] if obj is not None else []

    @admin.display(description="Latest published", ordering="latest_published_number")
    def latest_published(self, obj: Plan) -> str:
        number = obj.latest_published_number
        return f"v{number}" if number else "—"

    @admin.display(description="Draft", boolean=True)
    def draft(self, obj: Plan) -> bool:
        return obj.draft_number is not None

    @admin.display(description="Live subscriptions", ordering="live_count")
    def live_subscriptions(self, obj: Plan) -> int:
        return obj.live_count

    def has_delete_permission(self, request: HttpRequest, obj: Plan | None = None) -> bool:
        return False  # subscriptions and invoices refer to plans forever; archive versions instead

    def save_model(self, request: HttpRequest, obj: Plan, form: forms.Form, change: bool) -> None:
        data = form.cleaned_data
        if change:
            plan_update(
                plan=self.fresh(obj),
                data=changed_data(form, ("name", "description")),
                actor=request.user,
            )
            return
        plan = plan_create(
            code=data["code"],
            name=data["name"],
            description=data["description"],
            actor=request.user,
        )
        self.adopt(obj, plan)
        request._plans_first_draft = plan_version_create_draft(  # type: ignore[attr-defined]
            plan=plan,
            currency=data["currency"],
            interval=data["interval"],
            base_fee=data["base_fee"],
            base_fee_in_advance=data["base_fee_in_advance"],
            trial_days=data["trial_days"],
            actor=request.user,
        )

    def response_add(
        self, request: HttpRequest, obj: Plan, post_url_continue: str | None = None
    ) -> HttpResponse:
        draft = getattr(request, "_plans_first_draft", None)
        if draft is None or "_addanother" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(
            request,
            f"Plan {obj.code} was created with draft version {draft.number}: add its charges "
            "and features, then publish it.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(version_url(draft))

    def get_urls(self) -> list:
        return [
            admin_path(
                self,
                "<path:object_id>/new-draft/",
                lambda request, object_id: version_views.plan_new_draft(self, request, object_id),
                name="plans_plan_new_draft",
                permission="plans.add_planversion",
            ),
            *super().get_urls(),
        ]

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict,
        add: bool = False,
        change: bool = False,
        **kw: Any,
    ) -> HttpResponse:
        obj = kw.get("obj")
        if obj is not None:
            context["draft_version"] = obj.versions.filter(status=PlanVersion.Status.DRAFT).first()
        return super().render_change_form(request, context, add, change, **kw)


class ChargeInline(DraftChargeEditing, admin.TabularInline):
    model = Charge
    extra = 0
    show_change_link = True
    verbose_name_plural = "Charges"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Charge]:
        return super().get_queryset(request).select_related("metric", "version")

    @admin.display(description="Pricing")
    def pricing(self, obj: Charge) -> str:
        return charge_properties_html(obj, obj.version.currency)

    @admin.display(description="Example")
    def example(self, obj: Charge) -> str:
        return example_text(obj.charge_model, obj.properties, obj.version.currency)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # charges are added with their own form ("Add charge")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        editable = obj is None or obj.is_draft
        return editable and super().has_delete_permission(request, obj)


class PlanVersionForm(forms.ModelForm):
    class Meta:
        model = PlanVersion
        fields = ("plan", *VERSION_FIELDS)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        plan = cleaned.get("plan")
        if self.instance.pk is None and plan is not None:
            draft = plan.versions.filter(status=PlanVersion.Status.DRAFT).first()
            if draft is not None:
                self.add_error(
                    "plan",
                    f"{plan.code} already has a draft (version {draft.number}); edit or publish "
                    "it first.",
                )
        return cleaned


@admin.register(PlanVersion)
class PlanVersionAdmin(BaseFeeColumn, ServiceAdmin):
    form = PlanVersionForm
    list_display = [
        "__str__",
        "plan",
        "number",
        "status",
        "currency",
        "base_fee_money",
        "charge_count",
        "live_subscriptions",
    ]
    list_filter = ["status", "interval", "currency", "plan"]
    list_select_related = ["plan"]
    search_fields = ["plan__code", "plan__name"]
    search_help_text = "Search by plan code or name."
    inlines = [ChargeInline, PlanFeatureInline]
    change_form_template = "admin/plans/planversion/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[PlanVersion]:
        charges = Charge.objects.filter(version=OuterRef("pk"))
        live = Subscription.objects.filter(version=OuterRef("pk"), status__in=LIVE)
        return (
            super()
            .get_queryset(request)
            .annotate(charge_n=_count(charges, "version"), live_count=_count(live, "version"))
        )

    def get_inlines(self, request: HttpRequest, obj: PlanVersion | None) -> list:
        # Charges are added with their own form, once the draft exists.
        return self.inlines if obj is not None else [PlanFeatureInline]

    def get_fieldsets(self, request: HttpRequest, obj: PlanVersion | None = None) -> list:
        price = ("Price", {"fields": ["currency", "interval", "base_fee", "base_fee_in_advance"]})
        terms = ("Terms", {"fields": ["trial_days", "invoice_grace_days", "net_payment_days"]})
        if obj is None:
            return [(None, {"fields": ["plan"]}), price, terms]
        head = (None, {"fields": ["plan", "number", "status"]})
        return [head, price, terms, ("Lifecycle", {"fields": list(LIFECYCLE_FIELDS)})]

    def get_readonly_fields(self, request: HttpRequest, obj: PlanVersion | None = None) -> list:
        if obj is None:
            return []
        if not obj.is_draft:
            return ["plan", "number", "status", *VERSION_FIELDS, *LIFECYCLE_FIELDS]
        return ["plan", "number", "status", *LIFECYCLE_FIELDS]

    @admin.display(description="Charges", ordering="charge_n")
    def charge_count(self, obj: PlanVersion) -> int:
        return obj.charge_n

    @admin.display(description="Live subscriptions", ordering="live_count")
    def live_subscriptions(self, obj: PlanVersion) -> str:
        if not obj.live_count:
            return "0"
        url = reverse("admin:plans_subscription_changelist") + f"?version__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.live_count)

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # only drafts are deleted, one at a time
        return actions

    def has_delete_permission(self, request: HttpRequest, obj: PlanVersion | None = None) -> bool:
        if obj is not None and not obj.is_draft:
            return False  # published versions are archived, never deleted
        return super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: PlanVersion) -> None:
        plan_version_draft_delete(version=obj, actor=request.user)

    def save_model(
        self, request: HttpRequest, obj: PlanVersion, form: forms.Form, change: bool
    ) -> None:
        if not change:
            data = {name: form.cleaned_data[name] for name in VERSION_FIELDS}
            draft = plan_version_create_draft(
                plan=form.cleaned_data["plan"], actor=request.user, **data
            )
            self.adopt(obj, draft)
            return
        data = changed_data(form, VERSION_FIELDS)
        if data and obj.is_draft:
            plan_version_update(version=self.fresh(obj), data=data, actor=request.user)

    def save_formset(
        self, request: HttpRequest, form: forms.Form, formset: Any, change: bool
    ) -> None:
        formset.save(commit=False)  # collects deletions; nothing is written here
        for deleted in formset.deleted_objects:
            if isinstance(deleted, Charge):
                charge_delete(charge=deleted, actor=request.user)
            elif isinstance(deleted, PlanFeature):
                plan_feature_remove(plan_feature=deleted, actor=request.user)
        if formset.model is Charge:
            charge_rows_save(request, formset)
        if formset.model is not PlanFeature:
            return
        for row in formset.forms:
            if not row.has_changed() or not row.cleaned_data or row.cleaned_data.get("DELETE"):
                continue
            if row.instance.pk and "feature" in row.changed_data:
                previous = PlanFeature.objects.get(pk=row.instance.pk)
                plan_feature_remove(plan_feature=previous, actor=request.user)
            plan_feature_set(
                version=form.instance,
                feature=row.cleaned_data["feature"],
                actor=request.user,
                **{name: row.cleaned_data[name] for name in PLAN_FEATURE_FIELDS},
            )

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        version = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if version is not None:
            extra.update(version_views.object_tools_context(version))
            uncharged = soft_caps_without_charge(version=version)
            if uncharged and request.method == "GET":
                messages.warning(
                    request,
                    f"Soft cap without a charge: {', '.join(uncharged)}. Usage beyond the limit "
                    "is allowed but would never be billed; add a charge on the feature's metric "
                    "or make the cap hard.",
                )
            if not version.is_draft:
                extra.update(show_save=False, show_save_and_continue=False, show_delete=False)
                extra["show_save_and_add_another"] = False
        return super().change_view(request, object_id, form_url, extra)

    def get_urls(self) -> list:
        def page(route: str, view: Any, name: str, permission: str) -> Any:
            return admin_path(
                self,
                f"<path:object_id>/{route}/",
                lambda request, object_id: view(self, request, object_id),
                name=f"plans_planversion_{name}",
                permission=permission,
            )

        return [
            page("publish", version_views.publish, "publish", "plans.change_planversion"),
            page("draft-from", version_views.draft_from, "draft_from", "plans.add_planversion"),
            page("compare", version_views.compare, "compare", "plans.view_planversion"),
            page("archive", version_views.archive, "archive", "plans.change_planversion"),
            page("migrate", version_views.migrate, "migrate", "plans.change_subscription"),
            *super().get_urls(),
        ]
