"""Entitlements in the admin: the customer's page as a "customer 360" (usage, features with
bars, credits and their ledger, alerts, subscriptions), the credit grant form, and usage alerts.

The catalog owns the customer admin but cannot import credits or entitlements, so this app
extends it (the same page, with the panel and the grant form added)."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode

from billing_site.core.admin_views import admin_path
from billing_site.core.exceptions import ApplicationError
from billing_site.core.numbers import grouped_number
from credits.models import CreditGrant
from credits.services import credit_grant_create
from entitlements.models import UsageAlert
from entitlements.overview import customer_overview
from entitlements.selectors import EntitlementDecision
from plans.admin.customers import CustomerAdmin
from plans.models import Customer, Feature

WARN_AT, DANGER_AT = 75, 90


@dataclass(frozen=True)
class FeatureBar:
    decision: EntitlementDecision
    percent: int | None  # None: no bar (unlimited, boolean, static)
    level: str  # ok | warn | danger

    @property
    def width(self) -> int:
        return min(100, self.percent or 0)


def feature_bar(decision: EntitlementDecision) -> FeatureBar:
    if decision.limit is None or decision.used is None:
        return FeatureBar(decision, None, "ok")
    allowance = (
        decision.limit + decision.credits + (decision.counter.credited if decision.counter else 0)
    )
    if allowance <= 0:
        percent = 100 if decision.used > 0 else 0
    else:
        percent = int(decision.used * 100 / allowance)
    level = "danger" if percent >= DANGER_AT else "warn" if percent >= WARN_AT else "ok"
    return FeatureBar(decision, percent, level)


class CreditGrantForm(forms.Form):
    feature = forms.ModelChoiceField(
        queryset=Feature.objects.filter(kind=Feature.Kind.METERED).order_by("slug"),
        help_text="Credits are units of a metered feature.",
    )
    amount = forms.DecimalField(max_digits=20, decimal_places=4, min_value=Decimal("0.0001"))
    source = forms.ChoiceField(
        choices=[
            (CreditGrant.Source.MANUAL, CreditGrant.Source.MANUAL.label),
            (CreditGrant.Source.PROMOTION, CreditGrant.Source.PROMOTION.label),
        ]
    )
    priority = forms.IntegerField(
        min_value=0, max_value=32767, initial=50, help_text="Lower numbers are used first."
    )
    expires_at = forms.DateTimeField(
        required=False,
        help_text="YYYY-MM-DD HH:MM (UTC). Blank: a lifetime allowance that never expires.",
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


admin.site.unregister(Customer)


@admin.register(Customer)
class Customer360Admin(CustomerAdmin):
    change_form_template = "admin/entitlements/customer_360.html"

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        extra = dict(extra_context or {})
        customer = self.get_object(request, object_id)
        if customer is not None:
            overview = customer_overview(customer=customer)
            extra.update(
                overview=overview,
                bars=[feature_bar(d) for d in overview.features],
                usage_rows=[
                    (
                        row,
                        reverse("admin:metering_event_changelist")
                        + "?"
                        + urlencode({"q": customer.external_id, "code": row.metric.code}),
                    )
                    for row in overview.usage
                ],
                can_grant=self.has_grant_permission(request),
            )
        return super().change_view(request, object_id, form_url, extra)

    def has_grant_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("credits.add_creditgrant")

    def get_urls(self) -> list:
        return [
            admin_path(
                self,
                "<path:object_id>/grant-credits/",
                self.grant_credits_view,
                name="plans_customer_grant_credits",
                permission="credits.add_creditgrant",
            ),
            *super().get_urls(),
        ]

    def grant_credits_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        customer = get_object_or_404(Customer, pk=object_id)
        form = CreditGrantForm(request.POST or None)
        confirming = False
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            if request.POST.get("confirm") == "yes":
                try:
                    grant = credit_grant_create(
                        customer=customer,
                        feature=data["feature"],
                        amount=data["amount"],
                        source=data["source"],
                        priority=data["priority"],
                        expires_at=data["expires_at"],
                        reason=data["reason"],
                        actor=request.user,
                    )
                except (ValidationError, ApplicationError) as exc:
                    form.add_error(None, getattr(exc, "message", None) or "; ".join(exc.messages))
                else:
                    self.log_change(request, customer, f"Granted credits: {grant} ({grant.reason})")
                    self.message_user(
                        request,
                        f"Granted {grant.amount.normalize():f} {grant.feature.slug} credits.",
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(
                        reverse("admin:plans_customer_change", args=[customer.pk])
                    )
            else:
                confirming = True
        context = {
            **self.admin_site.each_context(request),
            "title": f"Grant credits to {customer}",
            "opts": self.model._meta,
            "original": customer,
            "form": form,
            "confirming": confirming,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/entitlements/grant_credits.html", context)


@admin.register(UsageAlert)
class UsageAlertAdmin(admin.ModelAdmin):
    list_display = [
        "fired_at",
        "customer",
        "feature",
        "threshold_text",
        "used_units",
        "allowance_units",
    ]
    list_filter = ["threshold", "feature"]
    list_select_related = ["customer", "feature"]
    search_fields = ["=customer__external_id"]
    search_help_text = "The customer's exact external id."

    @admin.display(description="Threshold", ordering="threshold")
    def threshold_text(self, obj: UsageAlert) -> str:
        return f"{obj.threshold}%"

    @admin.display(description="Used", ordering="used")
    def used_units(self, obj: UsageAlert) -> str:
        return grouped_number(obj.used)

    @admin.display(description="Allowance", ordering="allowance")
    def allowance_units(self, obj: UsageAlert) -> str:
        return grouped_number(obj.allowance)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
