"""Charges on a version's page: edited in place while the version is a draft.

On a draft, each charge row edits its invoice name, minimum and proration in place (saved through
``charge_update``), links to its price in the tier editor, and can be deleted; "Add charge" opens
the charge form for the draft. A published or archived version shows the same rows read-only.
"""

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from plans.models import Charge, PlanVersion
from plans.sentences import money_text
from plans.services import charge_update

PRICE_FIELDS = ["metric", "charge_model", "pricing", "example", "edit_price"]
INLINE_EDITABLE = ["invoice_display_name", "min_amount", "prorated"]


class DraftChargeEditing:
    def get_fields(self, request: HttpRequest, obj: PlanVersion | None = None) -> list:
        if obj is not None and obj.is_draft:
            return [*PRICE_FIELDS, *INLINE_EDITABLE]
        return [*PRICE_FIELDS, "invoice_display_name", "minimum", "prorated"]

    def get_readonly_fields(self, request: HttpRequest, obj: PlanVersion | None = None) -> list:
        if obj is not None and obj.is_draft:
            return list(PRICE_FIELDS)
        return [*PRICE_FIELDS, "invoice_display_name", "minimum", "prorated"]

    @admin.display(description="Minimum per period")
    def minimum(self, obj: Charge) -> str:
        return money_text(obj.min_amount, obj.version.currency)

    def has_change_permission(self, request: HttpRequest, obj: PlanVersion | None = None) -> bool:
        editable = obj is None or obj.is_draft
        return editable and super().has_change_permission(request, obj)  # type: ignore[misc]

    @admin.display(description="Price")
    def edit_price(self, obj: Charge) -> str:
        if not obj.pk:
            return ""
        url = reverse("admin:plans_charge_change", args=[obj.pk])
        label = "Edit price (tier editor)…" if obj.version.is_draft else "View"
        return format_html('<a href="{}" class="plans-edit-price">{}</a>', url, label)


def charge_rows_save(request: HttpRequest, formset: forms.BaseModelFormSet) -> None:
    """Save the in-place edits of a draft's charge rows through the service."""
    for row in formset.forms:
        if not row.has_changed() or not row.cleaned_data or row.cleaned_data.get("DELETE"):
            continue
        changed = {
            name: row.cleaned_data[name] for name in INLINE_EDITABLE if name in row.changed_data
        }
        if changed and row.instance.pk:
            charge = Charge.objects.select_related("version").get(pk=row.instance.pk)
            charge_update(charge=charge, data=changed, actor=request.user)
