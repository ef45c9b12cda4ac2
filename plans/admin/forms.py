"""The charge form: one field per property of the chosen model and tiers as rows, assembled into
Lago-compatible ``properties`` and checked by ``plans.pricing.validate_properties``, whose
messages land on the field or tier row they name.
"""

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from billing_site.core.wording import in_field_words
from plans.admin.display import TIERED_MODELS
from plans.models import Charge, PlanVersion
from plans.pricing import CHARGE_MODELS, validate_properties
from plans.pricing_groups import grouping_keys

# What the version form edits (and the diff compares), and what a plan feature sets.
VERSION_FIELDS = (
    "currency",
    "interval",
    "base_fee",
    "base_fee_in_advance",
    "trial_days",
    "invoice_grace_days",
    "net_payment_days",
)
PLAN_FEATURE_FIELDS = ("enabled", "value", "limit", "reset_period", "cap", "alert_thresholds")

# The form fields each charge model uses, in the order they are shown.
MODEL_FIELDS: dict[str, tuple[str, ...]] = {
    "standard": ("amount", "free_units"),
    "package": ("amount", "package_size", "free_units"),
    "graduated": (),
    "volume": (),
    "percentage": (
        "rate",
        "fixed_amount",
        "free_units_per_events",
        "free_units_per_total_aggregation",
        "per_transaction_min_amount",
        "per_transaction_max_amount",
    ),
}
PROPERTY_FIELDS: tuple[str, ...] = tuple(
    dict.fromkeys(name for names in MODEL_FIELDS.values() for name in names)
)
# Counts are written as JSON integers when whole (as Lago does); money stays a decimal string.
COUNT_FIELDS = frozenset(
    {"free_units", "package_size", "free_units_per_events", "from_value", "to_value"}
)
TIER_FIELDS = ("from_value", "to_value", "per_unit_amount", "flat_amount")
TIER_PREFIX = "tiers"
_TIER_PATH = re.compile(r"^(?:graduated|volume)_ranges\[(\d+)\](?:\.(\w+))?$")


def _decimal_field(label: str, help_text: str = "", **attrs: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 14, **attrs}),
    )


def json_number(name: str, value: Decimal) -> int | str:
    if name in COUNT_FIELDS and value == value.to_integral_value():
        return int(value)
    return format(value, "f")


class TierForm(forms.Form):
    from_value = _decimal_field("From", placeholder="0")
    to_value = _decimal_field("To", placeholder="∞")
    per_unit_amount = _decimal_field("Per unit", placeholder="0.00")
    flat_amount = _decimal_field("Flat amount", placeholder="0")

    def is_blank(self) -> bool:
        return all(self.cleaned_data.get(name) is None for name in TIER_FIELDS)

    def as_tier(self) -> dict[str, Any]:
        """The row as a Lago range; a blank flat amount is 0, a blank ``to_value`` open."""
        data = {**self.cleaned_data, "flat_amount": self.cleaned_data["flat_amount"] or Decimal(0)}
        return {
            name: None if data[name] is None else json_number(name, data[name])
            for name in TIER_FIELDS
        }


TierFormSet = forms.formset_factory(TierForm, extra=0, can_delete=True)
FILTER_PREFIX = "filters"
_FILTER_PATH = re.compile(r"^filters\[(\d+)\](?:\.(.+))?$")


def _keys_field(label: str, help_text: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.TextInput(attrs={"size": 40, "placeholder": "e.g. region, model"}),
    )


def parse_keys(text: str) -> list[str]:
    return [key.strip() for key in (text or "").split(",") if key.strip()]


def values_text(values: dict[str, list[Any]]) -> str:
    """A filter's values as the form shows them: "region = us, eu; tier = gpu"."""
    return "; ".join(f"{key} = {', '.join(str(v) for v in vals)}" for key, vals in values.items())


class FilterForm(forms.Form):
    """One charge filter: which events (property = values), its invoice name, and its price
    edited with the same property fields, tier rows and grouping keys as the default price (a
    nested `FilterPriceForm` under the prefix `filters-N-price`)."""

    values = forms.CharField(
        label="Events where",
        required=False,
        widget=forms.TextInput(attrs={"size": 36, "placeholder": "region = us; tier = gpu, tpu"}),
    )
    invoice_display_name = forms.CharField(
        label="Invoice name", required=False, max_length=200, widget=forms.TextInput({"size": 20})
    )

    def __init__(self, *args: Any, charge_model: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.price = FilterPriceForm(
            self.data if self.is_bound else None,
            prefix=self.add_prefix("price"),
            charge_model=charge_model,
            initial_properties=self.initial.get("properties") or {},
            model_initial=charge_model,
            use_required_attribute=False,
        )

    def has_changed(self) -> bool:
        return super().has_changed() or self.price.has_changed()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        price_valid = self.price.is_valid()
        self.price_given = self.price.price_given()
        if self.is_blank():
            return cleaned
        if not price_valid:
            for errors in self.price.errors.values():
                for error in errors:
                    self.add_error(None, error)
        return cleaned

    def is_blank(self) -> bool:
        return not self.cleaned_data.get("values") and not getattr(self, "price_given", False)

    def clean_values(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for part in (self.cleaned_data.get("values") or "").split(";"):
            if not part.strip():
                continue
            key, sign, listed = part.partition("=")
            values = [v.strip() for v in listed.split(",") if v.strip()]
            if not sign or not key.strip() or not values:
                raise ValidationError(
                    f"Write {part.strip()!r} as property = value, value (e.g. region = us, eu)."
                )
            found[key.strip()] = values
        return found

    def as_filter(self) -> dict[str, Any]:
        return {
            "values": self.cleaned_data["values"],
            "properties": dict(self.price.properties),
            "invoice_display_name": self.cleaned_data.get("invoice_display_name") or "",
        }


FilterFormSet = forms.formset_factory(FilterForm, extra=1, can_delete=True)


def filter_initial(filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "values": values_text(raw.get("values") or {}),
            "invoice_display_name": raw.get("invoice_display_name") or "",
            "properties": dict(raw.get("properties") or {}),
        }
        for raw in filters
    ]


class ChargePropertiesForm(forms.Form):
    """The property fields and the tier rows; subclasses add the charge's own fields."""

    amount = _decimal_field(
        "Amount", "Price per unit (standard) or per package (package), in the plan's currency."
    )
    package_size = _decimal_field("Package size", "Units per package; a started package is paid.")
    free_units = _decimal_field("Free units", "Units included before the price applies.")
    rate = _decimal_field("Rate (%)", "Percentage of each transaction's amount, 0 to 100.")
    fixed_amount = _decimal_field("Fixed fee per transaction")
    free_units_per_events = _decimal_field(
        "Free transactions", "The first N transactions of the period are free."
    )
    free_units_per_total_aggregation = _decimal_field(
        "Free amount", "The first X of the period's total are free."
    )
    per_transaction_min_amount = _decimal_field("Minimum fee per transaction")
    per_transaction_max_amount = _decimal_field("Maximum fee per transaction")
    grouped_by = _keys_field(
        "Price per group of",
        "Event properties to price separately per combination of values (Lago's grouped_by): "
        "tiers and free units then apply per group. Events without the property form a group "
        "of their own.",
    )

    # Set by a form with filter rows: empty default properties then mean "no default price".
    has_filters = False

    def __init__(self, *args: Any, initial_properties: dict[str, Any] | None = None, **kwargs: Any):
        model_initial = kwargs.pop("model_initial", None)
        super().__init__(*args, **kwargs)
        self.properties: dict[str, Any] = {}
        self._kept_tiers: list[TierForm] = []
        properties = initial_properties or {}
        tiers_initial = None
        if not self.is_bound:
            for name in PROPERTY_FIELDS:
                if properties.get(name) is not None:
                    self.initial.setdefault(name, properties[name])
            if grouping_keys(properties):
                self.initial.setdefault("grouped_by", ", ".join(grouping_keys(properties)))
            tiers_initial = properties.get(f"{model_initial}_ranges") if model_initial else None
            if not tiers_initial:
                tiers_initial = [{"from_value": 0}, {}]
        self.tiers = TierFormSet(
            self.data if self.is_bound else None,
            initial=tiers_initial,
            prefix=f"{self.prefix}-{TIER_PREFIX}" if self.prefix else TIER_PREFIX,
            form_kwargs={"use_required_attribute": False},
        )

    def selected_model(self) -> str | None:
        return self.cleaned_data.get("charge_model")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        model = self.selected_model()
        if model not in CHARGE_MODELS:
            return cleaned
        if model in TIERED_MODELS:
            tiers = self._tier_rows()
            if tiers is None:
                return cleaned
            self.properties = {f"{model}_ranges": tiers}
        else:
            self.properties = {
                name: json_number(name, cleaned[name])
                for name in MODEL_FIELDS[model]
                if cleaned.get(name) is not None
            }
        keys = parse_keys(cleaned.get("grouped_by", ""))
        if self.has_filters and not (self.properties and self._default_given()):
            self.properties = {}  # a filtered charge without a default price
            return cleaned
        if keys:
            self.properties["grouped_by"] = keys
        for path, messages in validate_properties(model, self.properties).items():  # type: ignore[arg-type]
            for message in messages:
                self.add_property_error(path, message)
        return cleaned

    def _default_given(self) -> bool:
        """Whether the operator typed a default price (tiers count once a per-unit amount is
        set: the editor starts with an empty first row)."""
        if any(
            tier.get("per_unit_amount") is not None
            for name in ("graduated_ranges", "volume_ranges")
            for tier in self.properties.get(name) or []
        ):
            return True
        return any(k not in ("graduated_ranges", "volume_ranges") for k in self.properties)

    def _tier_rows(self) -> list[dict[str, Any]] | None:
        """The tier rows in order, skipping blank and removed ones; None if a row has a
        value that is not a number (its own error is shown on it)."""
        if not self.tiers.is_bound or not self.tiers.management_form.is_valid():
            self.add_error(None, "The tier rows are missing from the form; reload the page.")
            return None
        self._kept_tiers = []
        broken = False
        for index, form in enumerate(self.tiers.forms, start=1):
            if not form.is_valid():
                broken = True
                self.add_error(None, f"Tier row {index}: enter numbers only.")
                continue
            if form.cleaned_data.get("DELETE") or form.is_blank():
                continue
            self._kept_tiers.append(form)
        if broken:
            return None
        return [form.as_tier() for form in self._kept_tiers]

    def add_property_error(self, path: str, message: str) -> None:
        """Show a property error on its field, or on its tier row and above the form, in the
        words of the fields' labels (the pricing module names Lago's keys)."""
        fields = [*TierForm.base_fields.items(), *self.fields.items()]
        message = in_field_words(message, {name: str(field.label) for name, field in fields})
        match = _TIER_PATH.match(path)
        if match:
            index, field = int(match.group(1)), match.group(2)
            if index < len(self._kept_tiers):
                row = self._kept_tiers[index]
                row.add_error(field if field in TIER_FIELDS else None, message)
            self.add_error(None, message)
        elif path in self.fields:
            self.add_error(path, message)
        else:
            self.add_error(None, message)

    def add_service_error(self, field: str | None, message: str) -> bool:
        if field and field.startswith("properties."):
            self.add_property_error(field.removeprefix("properties."), message)
            return True
        return False

    def has_changed(self) -> bool:
        return super().has_changed() or (self.tiers.is_bound and self.tiers.has_changed())


class FilterPriceForm(ChargePropertiesForm):
    """A filter's price: the default price's fields and tier rows under the filter row's
    prefix, for the charge's model."""

    def __init__(self, *args: Any, charge_model: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.charge_model = charge_model

    def selected_model(self) -> str | None:
        return self.charge_model

    def price_given(self) -> bool:
        """Whether anything was typed for this price (an untouched row's tier editor holds only
        its first row's 0)."""
        return bool(self.properties) and self._default_given()


class ChargeForm(ChargePropertiesForm, forms.ModelForm):
    class Meta:
        model = Charge
        fields = (
            "version",
            "metric",
            "charge_model",
            "invoice_display_name",
            "prorated",
            "pay_in_advance",
            "min_amount",
        )
        labels = {"version": "Plan version", "min_amount": "Minimum per period"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        instance = kwargs.get("instance")
        if instance is not None and instance.pk:
            kwargs.setdefault("initial_properties", instance.properties)
            kwargs.setdefault("model_initial", instance.charge_model)
        super().__init__(*args, **kwargs)
        stored = instance.filters if instance is not None and instance.pk else []
        model = (self.data.get("charge_model") if self.is_bound else None) or (
            instance.charge_model if instance is not None and instance.pk else None
        )
        self.filter_rows = FilterFormSet(
            self.data if self.is_bound else None,
            initial=None if self.is_bound else filter_initial(stored or []),
            prefix=FILTER_PREFIX,
            form_kwargs={"use_required_attribute": False, "charge_model": model},
        )
        self.filters: list[dict[str, Any]] = list(stored or [])
        self._kept_filters: list[FilterForm] = []
        if "version" in self.fields:
            self.fields["version"].queryset = PlanVersion.objects.filter(
                status=PlanVersion.Status.DRAFT
            ).select_related("plan")
            self.fields["version"].help_text = "Charges are added to draft versions only."
        if "charge_model" in self.fields:
            self.fields["charge_model"].help_text = (
                "Standard: a price per unit. Package: a price per block of units. Graduated: "
                "each tier prices its own units. Volume: all units at the price of the tier "
                "the total reaches. Percentage: a share of each transaction's amount."
            )

    def selected_model(self) -> str | None:
        if "charge_model" in self.fields:
            return self.cleaned_data.get("charge_model")
        return self.instance.charge_model or None

    def clean(self) -> dict[str, Any]:
        self._clean_filters()
        cleaned = super().clean()
        self.instance.properties = self.properties
        self.instance.filters = self.filters
        return cleaned

    def _clean_filters(self) -> None:
        """The filter rows in order, skipping blank and removed ones; their errors stay on them
        and are listed above the form."""
        if not self.filter_rows.is_bound or not self.filter_rows.management_form.is_valid():
            return  # a form posted without filter rows keeps the charge's filters
        self._kept_filters = []
        for index, row in enumerate(self.filter_rows.forms, start=1):
            if not row.is_valid():
                for errors in row.errors.values():
                    for error in errors:
                        self.add_error(None, f"Filter {index}: {error}")
                continue
            if row.cleaned_data.get("DELETE") or row.is_blank():
                continue
            self._kept_filters.append(row)
        self.filters = [row.as_filter() for row in self._kept_filters]
        self.has_filters = bool(self.filters)

    def add_service_error(self, field: str | None, message: str) -> bool:
        match = _FILTER_PATH.match(field or "")
        if match:
            index = int(match.group(1))
            if index < len(self._kept_filters):
                self._kept_filters[index].add_error(None, message)
            self.add_error(None, f"Filter {index + 1}: {message}")
            return True
        if field in ("prorated", "pay_in_advance"):
            self.add_error(field, message)
            return True
        return super().add_service_error(field, message)

    def has_changed(self) -> bool:
        return super().has_changed() or (
            self.filter_rows.is_bound and self.filter_rows.has_changed()
        )


class ChargeExampleForm(ChargePropertiesForm):
    """What the live example reads: the model, its properties and the units to price."""

    charge_model = forms.ChoiceField(choices=[(m, m) for m in CHARGE_MODELS])
    example_units = forms.DecimalField(required=False, min_value=Decimal("0"))

    def clean_example_units(self) -> Decimal | None:
        units = self.cleaned_data.get("example_units")
        if units is not None and units > Decimal("1e15"):
            raise ValidationError("Choose at most 1,000,000,000,000,000 units.")
        return units
