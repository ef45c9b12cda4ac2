"""Charges: the form with one field per property and tiers as rows, and its live example.

The example is computed by the server (``charge/preview/`` calls ``plans.pricing``), so the page
never does money math; the script only shows and hides fields and sends the form as it is typed.
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from billing_site.core.admin_views import admin_path
from plans.admin._base import ServiceAdmin, changed_data
from plans.admin.catalog import version_url
from plans.admin.display import (
    charge_properties_html,
    charge_summary_line,
    example_text,
    example_units,
)
from plans.admin.forms import MODEL_FIELDS, PROPERTY_FIELDS, ChargeExampleForm, ChargeForm
from plans.models import Charge, PlanVersion
from plans.pricing import PricingError, example_sentence, price
from plans.pricing_groups import grouping_keys
from plans.sentences import money_text
from plans.services import charge_create, charge_delete, charge_update

CHARGE_FIELDS = (
    "charge_model",
    "invoice_display_name",
    "prorated",
    "pay_in_advance",
    "min_amount",
)


def _currency_of(version_id: str | None) -> str:
    if version_id and version_id.isdigit():
        version = PlanVersion.objects.filter(pk=int(version_id)).only("currency").first()
        if version is not None:
            return version.currency
    return "USD"


def _row_properties(row: forms.Form) -> dict[str, Any] | None:
    """A filter row's price: as stored, or as typed once it validated (None when blank)."""
    if not row.is_bound:
        properties = row.initial.get("properties")
    elif row.is_valid() and getattr(row, "price_given", False):
        properties = row.price.properties
    else:
        properties = None
    return properties or None


def _form_messages(form: forms.Form) -> list[str]:
    """The form's errors as sentences; the pricing messages already name their field."""
    found = []
    for field, errors in form.errors.items():
        named = field == "__all__" or field in PROPERTY_FIELDS
        label = "" if named else f"{form.fields[field].label or field}: "
        found.extend(f"{label}{error}" for error in errors)
    return list(dict.fromkeys(found))


@admin.register(Charge)
class ChargeAdmin(ServiceAdmin):
    form = ChargeForm
    list_display = ["__str__", "version", "metric", "charge_model", "summary", "minimum"]
    list_filter = ["charge_model", "version__status", "version__plan"]
    list_select_related = ["version__plan", "metric"]
    search_fields = ["metric__code", "version__plan__code", "invoice_display_name"]
    search_help_text = "Search by metric code, plan code or invoice name."
    radio_fields = {"charge_model": admin.HORIZONTAL}
    change_form_template = "admin/plans/charge/change_form.html"

    class Media:
        js = ["plans/admin/charge_form.js"]
        css = {"all": ["plans/admin/catalog.css"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Charge]:
        return super().get_queryset(request).select_related("version__plan", "metric")

    @staticmethod
    def editable(obj: Charge | None) -> bool:
        return obj is None or obj.version.is_draft

    def get_fieldsets(self, request: HttpRequest, obj: Charge | None = None) -> list:
        names = list(CHARGE_FIELDS)
        if not self.editable(obj):
            head = ["version_link", "metric", *names]
            return [(None, {"fields": head}), ("Price", {"fields": ["pricing", "example"]})]
        head = ["version", "metric", *names] if obj is None else ["version_link", "metric", *names]
        price_fields = [*PROPERTY_FIELDS, "grouped_by"]
        return [
            (None, {"fields": head}),
            (
                "Price",
                {
                    "fields": price_fields,
                    "classes": ["plans-charge-properties"],
                    "description": "The default price: events that match no filter below. "
                    "With filters, leave it empty to bill only the filtered events.",
                },
            ),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Charge | None = None) -> list[str]:
        if obj is None:
            return []
        if not self.editable(obj):
            return ["version_link", "metric", *CHARGE_FIELDS, "pricing", "example"]
        return ["version_link", "metric"]  # a charge's metric is its identity on the version

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change, **kwargs)
        version = form.base_fields.get("version")
        if version is not None and hasattr(version.widget, "can_add_related"):
            # The charge belongs to the draft it was opened from: no side trips from here.
            widget = version.widget
            widget.can_add_related = widget.can_change_related = widget.can_view_related = False
        return form

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"charge_model": "standard", **super().get_changeform_initial_data(request)}

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "metric":
            field.queryset = field.queryset.filter(archived_at__isnull=True)
        version_id = request.GET.get("version") or request.POST.get("version")
        if db_field.name == "metric" and version_id and version_id.isdigit():
            taken = Charge.objects.filter(version_id=int(version_id)).values("metric_id")
            field.queryset = field.queryset.exclude(pk__in=taken)
        return field

    @admin.display(description="Plan version")
    def version_link(self, obj: Charge) -> str:
        return format_html('<a href="{}">{}</a>', version_url(obj.version), obj.version)

    @admin.display(description="Pricing")
    def summary(self, obj: Charge) -> str:
        return charge_summary_line(obj, obj.version.currency)

    @admin.display(description="Minimum per period", ordering="min_amount")
    def minimum(self, obj: Charge) -> str:
        return money_text(obj.min_amount, obj.version.currency)

    @admin.display(description="Pricing")
    def pricing(self, obj: Charge) -> str:
        return charge_properties_html(obj, obj.version.currency)

    @admin.display(description="Example")
    def example(self, obj: Charge) -> str:
        return example_text(obj.charge_model, obj.properties, obj.version.currency)

    def has_change_permission(self, request: HttpRequest, obj: Charge | None = None) -> bool:
        return self.editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Charge | None = None) -> bool:
        return self.editable(obj) and super().has_delete_permission(request, obj)

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # charges are removed one by one from drafts
        return actions

    def delete_model(self, request: HttpRequest, obj: Charge) -> None:
        charge_delete(charge=obj, actor=request.user)

    def save_model(self, request: HttpRequest, obj: Charge, form: forms.Form, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            created = charge_create(
                version=data["version"],
                metric=data["metric"],
                charge_model=data["charge_model"],
                properties=form.properties,
                filters=form.filters,
                prorated=data.get("prorated", False),
                pay_in_advance=data.get("pay_in_advance", False),
                invoice_display_name=data.get("invoice_display_name", ""),
                min_amount=data.get("min_amount"),
                actor=request.user,
            )
            self.adopt(obj, created)
            return
        stored = self.fresh(obj)
        update = changed_data(form, CHARGE_FIELDS)
        if form.properties != stored.properties:
            update["properties"] = form.properties
        if form.filters != stored.filters:
            update["filters"] = form.filters
        if update:
            charge_update(charge=stored, data=update, actor=request.user)

    def response_post_save_add(self, request: HttpRequest, obj: Charge) -> HttpResponse:
        return HttpResponseRedirect(version_url(obj.version_id))

    def response_post_save_change(self, request: HttpRequest, obj: Charge) -> HttpResponse:
        return HttpResponseRedirect(version_url(obj.version_id))

    def response_delete(self, request: HttpRequest, obj_display: str, obj_id: Any) -> HttpResponse:
        version_id = getattr(request, "_plans_deleted_version", None)
        response = super().response_delete(request, obj_display, obj_id)
        return HttpResponseRedirect(version_url(version_id)) if version_id else response

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: Any = None):
        charge = self.get_object(request, object_id)
        if charge is not None:
            request._plans_deleted_version = charge.version_id  # type: ignore[attr-defined]
        return super().delete_view(request, object_id, extra_context)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict,
        add: bool = False,
        change: bool = False,
        **kw: Any,
    ) -> HttpResponse:
        obj: Charge | None = kw.get("obj")
        version_id = str(obj.version_id) if obj else request.GET.get("version", "")
        preview = reverse("admin:plans_charge_preview")
        context.update(
            charge_editable=add or self.has_change_permission(request, obj),
            tiers=getattr(context["adminform"].form, "tiers", None),
            filter_rows=self._filter_rows_with_examples(context["adminform"].form, obj, version_id),
            model_fields={model: list(names) for model, names in MODEL_FIELDS.items()},
            property_fields=PROPERTY_FIELDS,
            preview_url=f"{preview}?version={version_id}" if version_id.isdigit() else preview,
            currency=obj.version.currency if obj else _currency_of(version_id),
        )
        return super().render_change_form(request, context, add, change, **kw)

    @staticmethod
    def _filter_rows_with_examples(
        form: forms.Form, obj: Charge | None, version_id: str
    ) -> list[tuple[forms.Form, str]] | None:
        """Each filter row with its example sentence (what its price makes of the example
        units), so every filter reads like the default price's live example."""
        rows = getattr(form, "filter_rows", None)
        if rows is None:
            return None
        model = (form.data.get("charge_model") if form.is_bound else None) or (
            obj.charge_model if obj else "standard"
        )
        currency = obj.version.currency if obj else _currency_of(version_id)
        examples = []
        for row in rows.forms:
            properties = _row_properties(row)
            example = "" if properties is None else example_text(model, properties, currency)
            examples.append((row, example))
        return examples

    def get_urls(self) -> list:
        preview = admin_path(
            self,
            "preview/",
            require_POST(self.preview_view),
            name="plans_charge_preview",
            permission="plans.view_charge",
        )
        return [preview, *super().get_urls()]

    def preview_view(self, request: HttpRequest) -> JsonResponse:
        """The live example: "N units cost X", with the breakdown, for the form as typed."""
        if not (self.has_add_permission(request) or self.has_view_permission(request)):
            raise PermissionDenied
        form = ChargeExampleForm(request.POST)
        currency = _currency_of(request.POST.get("version") or request.GET.get("version"))
        if not form.is_valid():
            return JsonResponse({"ok": False, "errors": _form_messages(form)})
        model = form.cleaned_data["charge_model"]
        units = form.cleaned_data.get("example_units")
        if units is None:
            units = example_units(model, form.properties)
        try:
            result = price(model, form.properties, units)
            sentence = example_sentence(model, form.properties, units, currency)
        except PricingError as error:
            return JsonResponse({"ok": False, "errors": [error.message]})
        keys = grouping_keys(form.properties)
        if keys:
            # Each group is priced on its own: the example is what one group's units cost.
            sentence += f" in each group of {' × '.join(keys)}"
        return JsonResponse(
            {
                "ok": True,
                "sentence": sentence,
                "units": format(units, "f"),
                "currency": currency,
                "breakdown": [row.as_dict() for row in result.breakdown],
            }
        )
