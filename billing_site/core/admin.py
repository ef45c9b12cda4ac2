import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from billing_site.core.admin_confirm import confirm_action
from billing_site.core.admin_filters import set_or_not_filter
from billing_site.core.admin_views import admin_path
from billing_site.core.models import (
    ApiKey,
    ApiRequestLog,
    AuditLogEntry,
    WebhookDelivery,
    WebhookEndpoint,
)
from billing_site.core.scopes import SCOPE_CHOICES
from billing_site.core.services import api_key_create, api_key_revoke, api_key_update
from billing_site.core.webhooks import webhook_delivery_resend


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=SCOPE_CHOICES, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ApiKey
        fields = ["name", "scopes", "throttle_rate"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ["name", "key_prefix", "scope_list", "created_at", "last_used_at", "status"]
    list_filter = [
        set_or_not_filter("revoked_at", title="status", set_label="Revoked", unset_label="Active")
    ]
    search_fields = ["name", "prefix"]
    readonly_fields = ["key_prefix", "created_at", "created_by", "last_used_at", "revoked_at"]
    list_select_related = ["created_by"]
    actions = ["revoke_selected"]

    @admin.display(description="Key")
    def key_prefix(self, obj: ApiKey) -> str:
        return f"bk_{obj.prefix}_…" if obj.prefix else "shown once, after saving"

    @admin.display(description="Scopes")
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes)

    @admin.display(description="Status")
    def status(self, obj: ApiKey) -> str:
        return "revoked" if obj.is_revoked else "active"

    def has_delete_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        return False  # keys are revoked, never deleted, so the audit trail keeps its subject

    def save_model(self, request: HttpRequest, obj: ApiKey, form: forms.Form, change: bool) -> None:
        if change:
            api_key_update(
                api_key=obj,
                actor=request.user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                throttle_rate=form.cleaned_data.get("throttle_rate", ""),
            )
            return
        created, raw_key = api_key_create(
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            throttle_rate=form.cleaned_data.get("throttle_rate", ""),
            created_by=request.user,
        )
        obj.pk = created.pk
        obj.prefix = created.prefix
        obj._state.adding = False
        request._created_api_key = raw_key

    def response_add(
        self, request: HttpRequest, obj: ApiKey, post_url_continue=None
    ) -> HttpResponse:
        raw_key = getattr(request, "_created_api_key", None)
        if raw_key:
            self.message_user(
                request,
                f"API key created. Copy it now, it will not be shown again: {raw_key}",
                messages.WARNING,
            )
        return super().response_add(request, obj, post_url_continue)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        key = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if key is not None and not key.is_revoked and self.has_change_permission(request, key):
            extra["revoke_url"] = reverse("admin:core_apikey_revoke", args=[key.pk])
        return super().change_view(request, object_id, form_url, extra)

    def get_urls(self) -> list:
        return [
            admin_path(
                self,
                "<path:object_id>/revoke/",
                self.revoke_view,
                name="core_apikey_revoke",
                permission="core.change_apikey",
            ),
            *super().get_urls(),
        ]

    def revoke_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The key page's "Revoke…" button: the list action's confirmation, for this key."""
        key = self.get_object(request, object_id)
        if key is None:
            raise Http404("No such API key.")
        back = HttpResponseRedirect(reverse("admin:core_apikey_change", args=[key.pk]))
        if key.is_revoked:
            self.message_user(request, f"{key.name} is already revoked.", messages.WARNING)
            return back
        return self.revoke_selected(request, ApiKey.objects.filter(pk=key.pk)) or back

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return confirm_action(
            self,
            request,
            queryset,
            action="revoke_selected",
            title="Revoke API keys",
            question="Services using these keys will get 401 from their next request on.",
            perform=lambda key, reason: api_key_revoke(
                api_key=key, actor=request.user, reason=reason
            ),
            ask_reason=True,
        )


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor_label", "action", "object_type", "object_repr", "reason"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_id", "object_repr", "actor_label", "reason"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "description", "event_types_text", "active", "created_at"]
    list_filter = ["active"]
    fields = ["url", "description", "secret", "event_types", "active"]

    @admin.display(description="Event types")
    def event_types_text(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.event_types) or "all"


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log: every event sent, its attempts and last answer; resend on demand."""

    list_display = [
        "created_at",
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["status", "event_type", "endpoint"]
    list_select_related = ["endpoint"]
    search_fields = ["=event_id"]
    search_help_text = "The exact event id (Billing-Event-Id header)."
    actions = ["resend_selected"]
    readonly_fields = [
        "endpoint",
        "event_id",
        "event_type",
        "payload",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "next_attempt_at",
        "delivered_at",
        "created_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Resend selected deliveries…", permissions=["change"])
    def resend_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        def perform(delivery: WebhookDelivery) -> None:
            webhook_delivery_resend(delivery=delivery, actor=request.user)

        return confirm_action(
            self,
            request,
            queryset,
            action="resend_selected",
            title="Resend webhook deliveries",
            question="Each event is sent again, with its original event id, as a new delivery.",
            perform=perform,
        )


class StatusClassFilter(admin.SimpleListFilter):
    title = "outcome"
    parameter_name = "outcome"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin):
        return [
            ("success", "Succeeded (2xx)"),
            ("client_error", "Refused (4xx)"),
            ("server_error", "Failed (5xx)"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        bounds = {"success": (200, 300), "client_error": (400, 500), "server_error": (500, 600)}
        if self.value() not in bounds:
            return queryset
        low, high = bounds[self.value()]
        return queryset.filter(status_code__gte=low, status_code__lt=high)


@admin.register(ApiRequestLog)
class ApiRequestLogAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "api_key",
        "method",
        "path",
        "status_code",
        "latency",
        "error_code",
    ]
    list_filter = [StatusClassFilter, "method", ("api_key", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["^path"]
    search_help_text = "The start of a path, e.g. /api/v1/events."
    list_select_related = ["api_key"]
    show_full_result_count = False
    fields = [
        "created_at",
        "api_key",
        "method",
        "path",
        "query",
        "status_code",
        "latency",
        "error_code",
        "error_pretty",
    ]
    readonly_fields = fields

    @admin.display(description="Latency", ordering="duration_us")
    def latency(self, obj: ApiRequestLog) -> str:
        return f"{obj.duration_us / 1000:,.1f} ms"

    @admin.display(description="Error body")
    def error_pretty(self, obj: ApiRequestLog) -> SafeString | str:
        if obj.error_body is None:
            return "—"
        return format_html("<pre>{}</pre>", json.dumps(obj.error_body, indent=2)[:4096])

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
