"""Customers and their members. Members are saved through ``customer_members_set`` so that
metering's alias map (which turns a member's events into the customer's) stays in step."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse

from billing_site.core.admin_confirm import confirm_action
from metering.aliases import customer_alias_conflicts
from plans.admin._base import ServiceAdmin, changed_data
from plans.models import Customer, CustomerMember, Subscription
from plans.services import (
    customer_archive,
    customer_create,
    customer_members_set,
    customer_unarchive,
    customer_update,
)

LIVE = (Subscription.Status.TRIALING, Subscription.Status.ACTIVE)
CUSTOMER_UPDATABLE_FIELDS = ("name", "email", "currency", "metadata")  # the external id is fixed


class ArchivedFilter(admin.SimpleListFilter):
    title = "archived"
    parameter_name = "archived"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("no", "Active"), ("yes", "Archived")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "no":
            return queryset.filter(archived_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(archived_at__isnull=False)
        return queryset


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = ("external_id", "name", "email", "currency", "metadata")
        widgets = {
            "metadata": forms.Textarea(
                attrs={"rows": 3, "cols": 60, "style": "font-family: monospace"}
            )
        }

    def clean_metadata(self) -> dict:
        return self.cleaned_data.get("metadata") or {}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        external_id = cleaned.get("external_id")
        if self.instance.pk is None and external_id:
            taken = customer_alias_conflicts(customer_id=external_id, alias_ids=[external_id])
            if taken:
                self.add_error(
                    "external_id",
                    f"{external_id!r} already sends events for customer {taken[external_id]!r}.",
                )
        currency = cleaned.get("currency")
        if self.instance.pk and "currency" in self.changed_data:
            other = (
                Subscription.objects.filter(customer=self.instance, status__in=LIVE)
                .exclude(version__currency=currency)
                .select_related("version")
                .first()
            )
            if other is not None:
                self.add_error(
                    "currency",
                    f"Subscription {other.external_id} bills in {other.version.currency}; the "
                    "currency cannot change while it is live.",
                )
        return cleaned


class MemberForm(forms.ModelForm):
    class Meta:
        model = CustomerMember
        fields = ("member_id",)

    def clean_member_id(self) -> str:
        member_id = self.cleaned_data["member_id"].strip()
        owner = getattr(self, "owner_external_id", "")
        if owner and member_id == owner:
            raise forms.ValidationError("This is the customer's own id.")
        taken = customer_alias_conflicts(customer_id=owner, alias_ids=[member_id])
        if taken:
            raise forms.ValidationError(f"Already sends events for customer {taken[member_id]!r}.")
        return member_id


class MemberInline(admin.TabularInline):
    """Ids (such as seat users') whose events bill to the customer."""

    model = CustomerMember
    form = MemberForm
    fields = ["member_id", "created_at"]
    readonly_fields = ["created_at"]
    extra = 0
    verbose_name = "member"
    verbose_name_plural = "Members (ids whose usage events bill to this customer)"

    def get_formset(self, request: HttpRequest, obj: Customer | None = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = type(
            "MemberForm", (MemberForm,), {"owner_external_id": obj.external_id if obj else ""}
        )
        return formset


class SubscriptionInline(admin.TabularInline):
    model = Subscription
    fields = ["external_id", "version", "status", "current_period_end", "cancel_at_period_end"]
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False
    ordering = ["-started_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Subscription]:
        return super().get_queryset(request).select_related("version__plan")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Customer)
class CustomerAdmin(ServiceAdmin):
    form = CustomerForm
    list_display = ["external_id", "name", "email", "currency", "live_subscriptions", "archived"]
    list_display_links = ["external_id", "name"]
    list_filter = [ArchivedFilter, "currency"]
    search_fields = ["external_id", "name", "email"]
    search_help_text = "Search by external id, name or email."
    inlines = [MemberInline, SubscriptionInline]
    actions = ["archive_selected", "unarchive_selected"]
    fieldsets = [
        (None, {"fields": ["external_id", "name", "email", "currency"]}),
        ("Metadata", {"fields": ["metadata"], "classes": ["collapse"]}),
        ("Record", {"fields": ["archived_at", "created_at", "updated_at"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Customer]:
        live = Subscription.objects.filter(customer=OuterRef("pk"), status__in=LIVE)
        counted = live.order_by().values("customer").annotate(n=Count("pk")).values("n")
        return (
            super()
            .get_queryset(request)
            .annotate(live_n=Coalesce(Subquery(counted, output_field=IntegerField()), Value(0)))
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Customer | None = None) -> list[str]:
        record = ["archived_at", "created_at", "updated_at"]
        return ["external_id", *record] if obj is not None else record

    @admin.display(description="Live subscriptions", ordering="live_n")
    def live_subscriptions(self, obj: Customer) -> int:
        return obj.live_n

    @admin.display(description="Archived", boolean=True, ordering="archived_at")
    def archived(self, obj: Customer) -> bool:
        return obj.archived_at is not None

    def has_delete_permission(self, request: HttpRequest, obj: Customer | None = None) -> bool:
        return False  # usage and invoices refer to customers forever: archive instead

    def save_model(
        self, request: HttpRequest, obj: Customer, form: forms.Form, change: bool
    ) -> None:
        if change:
            data = changed_data(form, CUSTOMER_UPDATABLE_FIELDS)
            if data:
                customer_update(customer=self.fresh(obj), data=data, actor=request.user)
            return
        data = form.cleaned_data
        customer, _ = customer_create(
            external_id=data["external_id"],
            name=data.get("name", ""),
            email=data.get("email", ""),
            currency=data.get("currency", ""),
            metadata=data.get("metadata") or {},
            actor=request.user,
        )
        self.adopt(obj, customer)

    def save_formset(
        self, request: HttpRequest, form: forms.Form, formset: Any, change: bool
    ) -> None:
        formset.save(commit=False)  # for the change message; nothing is written here
        if formset.model is not CustomerMember:
            return  # subscriptions are shown, never edited, here
        if not formset.has_changed():
            return
        kept = [
            row.cleaned_data["member_id"]
            for row in formset.forms
            if row.cleaned_data and not row.cleaned_data.get("DELETE")
        ]
        customer_members_set(customer=form.instance, member_ids=kept, actor=request.user)

    @admin.action(description="Archive selected customers…", permissions=["change"])
    def archive_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        def perform(customer: Customer, reason: str) -> None:
            customer_archive(customer=customer, actor=request.user, reason=reason)
            self.log_change(request, customer, f"Archived: {reason}")

        return confirm_action(
            self,
            request,
            queryset,
            action="archive_selected",
            title="Archive customers",
            question="Archived customers cannot get new subscriptions. Their ids keep mapping "
            "usage events to them, so late usage still lands on the right customer. A customer "
            "with a live subscription is not archived: cancel it first.",
            perform=perform,
            ask_reason=True,
        )

    @admin.action(description="Unarchive selected customers…", permissions=["change"])
    def unarchive_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        def perform(customer: Customer, reason: str) -> None:
            customer_unarchive(customer=customer, actor=request.user, reason=reason)
            self.log_change(request, customer, f"Unarchived: {reason}")

        return confirm_action(
            self,
            request,
            queryset,
            action="unarchive_selected",
            title="Unarchive customers",
            question="These customers can be subscribed again.",
            perform=perform,
            ask_reason=True,
        )
