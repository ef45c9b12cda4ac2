"""Subscriptions: created through ``subscription_create``, then changed only by actions
(cancel, move to another version) and by overrides, each through its service."""

import secrets
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from billing_site.core.admin_confirm import confirm_action
from billing_site.core.admin_views import admin_path
from plans.admin import subscription_views
from plans.admin._base import ServiceAdmin
from plans.admin.migration import migration_flow
from plans.admin.override_views import override_add, override_preview
from plans.admin.overrides import OverrideInline, override_end
from plans.models import PlanVersion, Subscription
from plans.selectors import pricing_for_subscription
from plans.sentences import money_text, price_sentence
from plans.services import (
    subscription_cancel,
    subscription_cancellation_revoke,
    subscription_create,
)

PERIOD_FIELDS = ["billing_time", "started_at", "trial_ends_at", "billing_anchor"]
PERIOD_FIELDS += ["current_period_start", "current_period_end"]
CHANGE_FIELDS = ["cancel_at_period_end", "canceled_at", "ended_at"]
CHANGE_FIELDS += ["scheduled_version", "scheduled_change_at"]


class VersionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: PlanVersion) -> str:
        price = f"{money_text(obj.base_fee, obj.currency)} / {obj.interval}"
        return f"{obj.plan.name} ({obj.plan.code}) v{obj.number}: {price}"


class SubscriptionCreateForm(forms.ModelForm):
    version = VersionChoiceField(
        queryset=PlanVersion.objects.filter(status=PlanVersion.Status.PUBLISHED)
        .select_related("plan")
        .order_by("plan__code", "-number"),
        label="Plan version",
        help_text="Only published versions can be subscribed to.",
    )
    external_id = forms.CharField(
        required=False, max_length=255, help_text="Blank: one is generated (sub_…)."
    )
    trial_days = forms.IntegerField(
        required=False, min_value=0, help_text="Blank: the version's trial days."
    )

    class Meta:
        model = Subscription
        fields = ("customer", "version", "external_id", "started_at", "billing_time")

    def clean_external_id(self) -> str:
        return self.cleaned_data.get("external_id", "").strip() or f"sub_{secrets.token_hex(10)}"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        customer, version = cleaned.get("customer"), cleaned.get("version")
        if customer is not None and customer.archived_at is not None:
            self.add_error("customer", "The customer is archived.")
        if customer and version and customer.currency and customer.currency != version.currency:
            self.add_error(
                "version",
                f"The customer is billed in {customer.currency}; choose a version priced in it.",
            )
        return cleaned


@admin.register(Subscription)
class SubscriptionAdmin(ServiceAdmin):
    list_display = [
        "external_id",
        "customer",
        "version",
        "status",
        "current_period",
        "cancel_at_period_end",
        "scheduled_change",
    ]
    list_filter = ["status", "billing_time", "cancel_at_period_end", "version__plan", "version"]
    list_select_related = ["customer", "version__plan", "scheduled_version__plan"]
    search_fields = ["external_id", "customer__external_id", "customer__name", "customer__email"]
    search_help_text = "Search by subscription id, customer id, name or email."
    autocomplete_fields = ["customer"]
    radio_fields = {"billing_time": admin.VERTICAL}
    date_hierarchy = "started_at"
    actions = [
        "cancel_at_period_end_selected",
        "cancel_now_selected",
        "revoke_cancellation_selected",
        "migrate_selected",
    ]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        if obj is None:
            kwargs["form"] = SubscriptionCreateForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Subscription | None = None) -> list:
        if obj is None:
            fields = [
                "customer",
                "version",
                "external_id",
                "started_at",
                "billing_time",
                "trial_days",
            ]
            return [(None, {"fields": fields})]
        return [
            (None, {"fields": ["external_id", "customer", "version", "status", "price_now"]}),
            ("Periods", {"fields": PERIOD_FIELDS}),
            ("Cancellation and scheduled change", {"fields": CHANGE_FIELDS}),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Subscription | None = None) -> list:
        if obj is None:
            return []
        return [
            "external_id",
            "customer",
            "version",
            "status",
            "price_now",
            *PERIOD_FIELDS,
            *CHANGE_FIELDS,
        ]

    def get_inlines(self, request: HttpRequest, obj: Subscription | None) -> list:
        return [OverrideInline] if obj is not None else []

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        extra = {"show_save_and_add_another": False, **(extra_context or {})}
        subscription = self.get_object(request, object_id)
        if subscription is not None:
            extra["subscription_tools"] = subscription_views.object_tools(request, subscription)
        return super().change_view(request, object_id, form_url, extra)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"started_at": timezone.now(), **super().get_changeform_initial_data(request)}

    @admin.display(description="Current period", ordering="current_period_start")
    def current_period(self, obj: Subscription) -> str:
        return f"{obj.current_period_start:%Y-%m-%d} – {obj.current_period_end:%Y-%m-%d}"

    @admin.display(description="Scheduled change")
    def scheduled_change(self, obj: Subscription) -> str:
        if obj.scheduled_version_id is None:
            return "—"
        target = obj.scheduled_version
        return f"→ {target.plan.code} v{target.number} on {obj.scheduled_change_at:%Y-%m-%d}"

    @admin.display(description="Price now (version + overrides in force)")
    def price_now(self, obj: Subscription) -> str:
        pricing = pricing_for_subscription(subscription=obj, at=timezone.now())
        base = f"Base fee {money_text(pricing.base_fee, pricing.currency)} / {pricing.interval}"
        if pricing.base_fee_override_id:
            base += f" (override #{pricing.base_fee_override_id})"
        charges = format_html_join(
            "",
            "<li>{}: {}{}</li>",
            (
                (
                    charge.metric_code,
                    price_sentence(charge.charge_model, dict(charge.properties), pricing.currency),
                    f" (override #{charge.override_id})" if charge.override_id else "",
                )
                for charge in pricing.charges
            ),
        )
        return format_html("{}<ul>{}</ul>", base, charges)

    def has_delete_permission(self, request: HttpRequest, obj: Subscription | None = None) -> bool:
        return False  # subscriptions end or are canceled; invoices refer to them

    def save_model(
        self, request: HttpRequest, obj: Subscription, form: forms.Form, change: bool
    ) -> None:
        if change:
            return  # nothing on the page edits the subscription itself
        data = form.cleaned_data
        version: PlanVersion = data["version"]
        subscription, _ = subscription_create(
            customer=data["customer"],
            plan=version.plan,
            version_number=version.number,
            external_id=data["external_id"],
            started_at=data["started_at"],
            billing_time=data["billing_time"],
            trial_days=data.get("trial_days"),
            actor=request.user,
        )
        self.adopt(obj, subscription)

    # --- actions ------------------------------------------------------------------------------

    def _cancel(self, request: HttpRequest, queryset: QuerySet, *, at_period_end: bool) -> Any:
        def perform(subscription: Subscription, reason: str) -> None:
            subscription_cancel(
                subscription=subscription,
                at_period_end=at_period_end,
                actor=request.user,
                reason=reason,
            )
            when = "at period end" if at_period_end else "now"
            self.log_change(request, subscription, f"Canceled {when}: {reason}")

        question = (
            "They keep running, and are billed, until the end of their current period; then "
            "they end. Any scheduled plan change is dropped."
            if at_period_end
            else "They end NOW: usage from now on is not billed to them. Any scheduled plan "
            "change is dropped."
        )
        action = "cancel_at_period_end_selected" if at_period_end else "cancel_now_selected"
        return confirm_action(
            self,
            request,
            queryset,
            action=action,
            title="Cancel at period end" if at_period_end else "Cancel now",
            question=question,
            perform=perform,
            items=[
                f"{s} ({s.customer}, {s.version}, period ends {s.current_period_end:%Y-%m-%d})"
                for s in queryset
            ],
            ask_reason=True,
        )

    @admin.action(description="Cancel at period end…", permissions=["change"])
    def cancel_at_period_end_selected(self, request: HttpRequest, queryset: QuerySet) -> Any:
        return self._cancel(request, queryset, at_period_end=True)

    @admin.action(description="Cancel now…", permissions=["change"])
    def cancel_now_selected(self, request: HttpRequest, queryset: QuerySet) -> Any:
        return self._cancel(request, queryset, at_period_end=False)

    @admin.action(description="Revoke cancellation at period end…", permissions=["change"])
    def revoke_cancellation_selected(self, request: HttpRequest, queryset: QuerySet) -> Any:
        def perform(subscription: Subscription, reason: str) -> None:
            subscription_cancellation_revoke(
                subscription=subscription, actor=request.user, reason=reason
            )
            self.log_change(request, subscription, f"Cancellation revoked: {reason}")

        return confirm_action(
            self,
            request,
            queryset,
            action="revoke_cancellation_selected",
            title="Revoke cancellation",
            question="These subscriptions will renew at the end of their current period.",
            perform=perform,
            ask_reason=True,
        )

    @admin.action(description="Migrate to another version…", permissions=["change"])
    def migrate_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        subscriptions = list(queryset.select_related("version__plan", "customer"))
        versions = {s.version_id for s in subscriptions}
        if len(versions) != 1:
            self.message_user(
                request,
                "Select subscriptions of one plan version (filter the list by version first).",
                messages.ERROR,
            )
            return None
        hidden = [("action", "migrate_selected")]
        hidden += [(admin.helpers.ACTION_CHECKBOX_NAME, str(s.pk)) for s in subscriptions]
        return migration_flow(
            self,
            request,
            from_version=subscriptions[0].version,
            subscriptions=subscriptions,
            hidden=hidden,
            back_url=request.get_full_path(),
        )

    # --- adding and ending an override -------------------------------------------------------

    def get_urls(self) -> list:
        # Ending an override changes the price, as adding one does: the override permission.
        return [
            admin_path(
                self,
                "<path:object_id>/overrides/add/",
                lambda request, object_id: override_add(self, request, object_id),
                name="plans_subscription_override_add",
                permission="plans.add_subscriptionoverride",
            ),
            admin_path(
                self,
                "<path:object_id>/overrides/preview/",
                lambda request, object_id: override_preview(self, request, object_id),
                name="plans_subscription_override_preview",
                permission="plans.view_subscription",
            ),
            admin_path(
                self,
                "<path:object_id>/overrides/<int:override_id>/end/",
                lambda request, object_id, override_id: override_end(
                    self, request, object_id, override_id
                ),
                name="plans_subscription_override_end",
                permission="plans.change_subscriptionoverride",
            ),
            *subscription_views.object_urls(self),
            *super().get_urls(),
        ]
