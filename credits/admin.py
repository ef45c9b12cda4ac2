"""Credits in the admin: definitions on the plan version's page, grants and the ledger (read-only;
staff grant credits from the customer's page, through a form with a confirmation)."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import DecimalField, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest

from credits.models import CreditDefinition, CreditGrant, CreditLedgerEntry
from credits.services import credit_definition_remove, credit_definition_set
from metering.admin import ReadOnlyAdmin
from plans.admin.catalog import PlanVersionAdmin
from plans.models import Feature, PlanVersion

DEFINITION_FIELDS = (
    "initial_amount",
    "renew_on_billing",
    "refill_amount",
    "expiry_days",
    "priority",
    "billing_visible",
)


def units(value: Any) -> str:
    return "—" if value is None else f"{value.normalize():,f}"


class CreditDefinitionForm(forms.ModelForm):
    class Meta:
        model = CreditDefinition
        fields = ("feature", *DEFINITION_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "feature" in self.fields:  # read-only on a published version
            self.fields["feature"].queryset = Feature.objects.filter(kind=Feature.Kind.METERED)


class CreditDefinitionInline(admin.TabularInline):
    """Saved through ``credit_definition_set``/``_remove``; frozen once the version is
    published."""

    model = CreditDefinition
    form = CreditDefinitionForm
    fields = ["feature", *DEFINITION_FIELDS]
    extra = 0
    verbose_name = "credit allowance"
    verbose_name_plural = "Credits (units granted at start and refilled each period)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[CreditDefinition]:
        return super().get_queryset(request).select_related("feature", "version")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return list(self.fields) if obj is not None and not obj.is_draft else []

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (obj is None or obj.is_draft) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (obj is None or obj.is_draft) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (obj is None or obj.is_draft) and super().has_delete_permission(request, obj)


admin.site.unregister(PlanVersion)


@admin.register(PlanVersion)
class PlanVersionWithCreditsAdmin(PlanVersionAdmin):
    """The catalog's version page with the version's credit allowances (the catalog cannot
    import credits, so credits extends its page)."""

    inlines = [*PlanVersionAdmin.inlines, CreditDefinitionInline]

    def save_formset(
        self, request: HttpRequest, form: forms.Form, formset: Any, change: bool
    ) -> None:
        if formset.model is not CreditDefinition:
            super().save_formset(request, form, formset, change)
            return
        formset.save(commit=False)
        for deleted in formset.deleted_objects:
            credit_definition_remove(definition=deleted, actor=request.user)
        for row in formset.forms:
            if not row.has_changed() or not row.cleaned_data or row.cleaned_data.get("DELETE"):
                continue
            credit_definition_set(
                version=form.instance,
                feature=row.cleaned_data["feature"],
                actor=request.user,
                **{name: row.cleaned_data[name] for name in DEFINITION_FIELDS},
            )


@admin.register(CreditGrant)
class CreditGrantAdmin(ReadOnlyAdmin):
    list_display = [
        "customer",
        "feature",
        "amount_units",
        "remaining_units",
        "priority",
        "effective_at",
        "expires_at",
        "source",
        "actor_label",
    ]
    list_filter = ["source", "feature"]
    list_select_related = ["customer", "feature"]
    search_fields = ["=customer__external_id"]
    search_help_text = "The customer's exact external id."

    def get_queryset(self, request: HttpRequest) -> QuerySet[CreditGrant]:
        return (
            super()
            .get_queryset(request)
            .annotate(left=Coalesce(Sum("entries__amount"), Value(0), output_field=DecimalField()))
        )

    @admin.display(description="Amount", ordering="amount")
    def amount_units(self, obj: CreditGrant) -> str:
        return units(obj.amount)

    @admin.display(description="Remaining", ordering="left")
    def remaining_units(self, obj: CreditGrant) -> str:
        return units(obj.left)


@admin.register(CreditLedgerEntry)
class CreditLedgerEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "occurred_at",
        "customer",
        "feature",
        "kind",
        "amount_units",
        "grant",
        "reference",
        "actor_label",
    ]
    list_filter = ["kind", "feature"]
    list_select_related = ["customer", "feature", "grant"]
    search_fields = ["=customer__external_id", "=reference"]
    search_help_text = "The customer's exact external id, or a reference."

    @admin.display(description="Units", ordering="amount")
    def amount_units(self, obj: CreditLedgerEntry) -> str:
        return units(obj.amount)
