"""Overrides on the subscription page: the ones in force or scheduled (read-only, each with an
"End now…" link), a row form to add one through ``subscription_override_create``, and the page
that ends one through ``subscription_override_end``."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from billing_site.core.exceptions import ApplicationError
from plans.admin._base import error_text
from plans.models import Charge, Subscription, SubscriptionOverride
from plans.services import subscription_override_end

VALUE_HELP = (
    'JSON. Base fee: {"amount": "39.00"}. Charge: {"properties": {...}} in the charge model\'s '
    'schema. Feature: {"enabled": false}, {"value": 20} or {"limit": "5000"} (null: unlimited).'
)


class OverrideAddForm(forms.ModelForm):
    value = forms.JSONField(
        help_text=VALUE_HELP, widget=forms.Textarea(attrs={"rows": 2, "cols": 32})
    )

    class Meta:
        model = SubscriptionOverride
        fields = ("kind", "charge", "feature", "value", "valid_from", "valid_until", "reason")
        widgets = {"reason": forms.TextInput(attrs={"size": 24})}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        kind, charge, feature = cleaned.get("kind"), cleaned.get("charge"), cleaned.get("feature")
        Kind = SubscriptionOverride.Kind
        if kind == Kind.CHARGE and charge is None:
            self.add_error("charge", "Choose the charge this override changes.")
        if kind != Kind.CHARGE and charge is not None:
            self.add_error("charge", "Only a charge override names a charge.")
        if kind == Kind.FEATURE and feature is None:
            self.add_error("feature", "Choose the feature this override changes.")
        if kind in (Kind.BASE_FEE, Kind.CHARGE) and feature is not None:
            self.add_error("feature", f"A {kind} override names no feature.")
        if cleaned.get("value") is not None and not isinstance(cleaned["value"], dict):
            self.add_error("value", 'Give a JSON object, e.g. {"amount": "39.00"}.')
        return cleaned


class OverrideInline(admin.TabularInline):
    model = SubscriptionOverride
    fields = ["kind", "target", "value", "valid_from", "valid_until", "reason", "by", "end"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "Overrides"

    def get_queryset(self, request: HttpRequest) -> QuerySet[SubscriptionOverride]:
        return super().get_queryset(request).select_related("charge__metric", "feature")

    @admin.display(description="On")
    def target(self, obj: SubscriptionOverride) -> str:
        if obj.charge_id:
            return f"charge {obj.charge.metric.code}"
        return f"feature {obj.feature.slug}" if obj.feature_id else "—"

    @admin.display(description="By")
    def by(self, obj: SubscriptionOverride) -> str:
        return obj.created_by_label or "—"

    @admin.display(description="")
    def end(self, obj: SubscriptionOverride) -> str:
        now = timezone.now()
        if obj.valid_until is not None and obj.valid_until <= now:
            return "ended"
        url = reverse("admin:plans_subscription_override_end", args=[obj.subscription_id, obj.pk])
        label = "Withdraw…" if obj.valid_from and obj.valid_from > now else "End now…"
        return format_html('<a href="{}">{}</a>', url, label)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OverrideAddInline(admin.TabularInline):
    """New overrides only; saved by ``SubscriptionAdmin.save_formset`` through the service."""

    model = SubscriptionOverride
    form = OverrideAddForm
    extra = 0
    can_delete = False
    verbose_name = "override"
    verbose_name_plural = "Add an override (for this subscription only)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[SubscriptionOverride]:
        return super().get_queryset(request).none()

    def get_formset(self, request: HttpRequest, obj: Subscription | None = None, **kwargs: Any):
        request._plans_subscription = obj  # type: ignore[attr-defined]
        return super().get_formset(request, obj, **kwargs)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        subscription = getattr(request, "_plans_subscription", None)
        if db_field.name == "charge" and subscription is not None:
            versions = [subscription.version_id, subscription.scheduled_version_id]
            kwargs["queryset"] = Charge.objects.filter(version_id__in=versions).select_related(
                "metric", "version"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        live = obj is not None and obj.is_live
        return live and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def override_end(
    modeladmin: admin.ModelAdmin, request: HttpRequest, object_id: str, override_id: int
) -> HttpResponse:
    subscription = modeladmin.get_object(request, object_id)
    if subscription is None:
        raise Http404("No such subscription.")
    if not modeladmin.has_change_permission(request, subscription):
        raise PermissionDenied
    override = (
        subscription.overrides.select_related("charge__metric", "feature")
        .filter(pk=override_id)
        .first()
    )
    if override is None:
        raise Http404("No such override.")
    back = reverse("admin:plans_subscription_change", args=[subscription.pk])
    if request.method == "POST":
        reason = request.POST.get("reason", "").strip()
        if not reason:
            modeladmin.message_user(request, "Give a reason.", messages.ERROR)
        else:
            try:
                ended = subscription_override_end(
                    override=override, actor=request.user, reason=reason
                )
            except (ApplicationError, ValidationError) as error:
                modeladmin.message_user(request, error_text(error), messages.ERROR)
            else:
                done = "withdrawn (it had not started)" if ended is None else "ended"
                modeladmin.log_change(
                    request, subscription, f"Override {override_id} {done}: {reason}"
                )
                modeladmin.message_user(request, f"The override was {done}.", messages.SUCCESS)
                return HttpResponseRedirect(back)
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": modeladmin.model._meta,
        "title": f"End override #{override.pk} of {subscription}?",
        "crumb_object": subscription,
        "question": "From now on the subscription is priced by its plan version again.",
        "details": [
            str(override),
            f"Value: {override.value}",
            f"Reason given: {override.reason}",
        ],
        "back_url": back,
        "submit_label": "Yes, end it",
        "ask_reason": True,
    }
    return TemplateResponse(request, "admin/plans/confirm.html", context)
