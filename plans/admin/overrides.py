"""Overrides on the subscription page: the ones in force or scheduled, each as a sentence with an
"End now…" link, a link to the page that adds one (``plans/admin/override_views.py``), and the
page that ends one through ``subscription_override_end``."""

from typing import Any

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
from plans.models import SubscriptionOverride
from plans.sentences import override_sentence
from plans.services import subscription_override_end


def override_target(override: SubscriptionOverride) -> str:
    """What the override changes, named as on the invoice: "API calls", "Single sign-on"."""
    if override.charge_id:
        return override.charge.invoice_display_name or override.charge.metric.name
    return override.feature.name if override.feature_id else ""


def override_text(override: SubscriptionOverride) -> str:
    """The override as a sentence, its window in the site's time zone."""
    charge = override.charge if override.charge_id else None

    def local(moment: Any) -> Any:
        return None if moment is None else timezone.localtime(moment)

    return override_sentence(
        kind=override.kind,
        value=override.value or {},
        currency=override.subscription.version.currency,
        target=override_target(override),
        charge_model=charge.charge_model if charge else "",
        valid_from=local(override.valid_from),
        valid_until=local(override.valid_until),
    )


class OverrideInline(admin.TabularInline):
    """The overrides, each as a sentence, with a link to the page that adds one."""

    model = SubscriptionOverride
    template = "admin/plans/override/inline.html"
    fields = ["override", "reason", "by", "end"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "Overrides"

    def get_queryset(self, request: HttpRequest) -> QuerySet[SubscriptionOverride]:
        return (
            super()
            .get_queryset(request)
            .select_related("charge__metric", "feature", "subscription__version")
        )

    @admin.display(description="Override")
    def override(self, obj: SubscriptionOverride) -> str:
        return override_text(obj)

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
        "details": [override_text(override), f"Reason given: {override.reason}"],
        "back_url": back,
        "submit_label": "Yes, end it",
        "ask_reason": True,
    }
    return TemplateResponse(request, "admin/plans/confirm.html", context)
