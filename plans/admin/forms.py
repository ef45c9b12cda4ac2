"""The charge form: one field per property of the chosen model and tiers as rows, assembled into
Lago-compatible ``properties`` and checked by ``plans.pricing.validate_properties``, whose
messages land on the field or tier row they name.
"""

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from plans.admin.display import TIERED_MODELS
from plans.models import Charge, PlanVersion
from plans.pricing import CHARGE_MODELS, validate_properties

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
            tiers_initial = properties.get(f"{model_initial}_ranges") if model_initial else None
            if not tiers_initial:
                tiers_initial = [{"from_value": 0}, {}]
        self.tiers = TierFormSet(
            self.data if self.is_bound else None,
            initial=tiers_initial,
            prefix=TIER_PREFIX,
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
        for path, messages in validate_properties(model, self.properties).items():  # type: ignore[arg-type]
            for message in messages:
                self.add_property_error(path, message)
        return cleaned

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
        """Show a property error on its field, or on its tier row and above the form."""
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


class ChargeForm(ChargePropertiesForm, forms.ModelForm):
    class Meta:
        model = Charge
        fields = ("version", "metric", "charge_model", "invoice_display_name", "min_amount")
        labels = {"version": "Plan version", "min_amount": "Minimum per period"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        instance = kwargs.get("instance")
        if instance is not None and instance.pk:
            kwargs.setdefault("initial_properties", instance.properties)
            kwargs.setdefault("model_initial", instance.charge_model)
        super().__init__(*args, **kwargs)
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
        cleaned = super().clean()
        self.instance.properties = self.properties
        return cleaned


class ChargeExampleForm(ChargePropertiesForm):
    """What the live example reads: the model, its properties and the units to price."""

    charge_model = forms.ChoiceField(choices=[(m, m) for m in CHARGE_MODELS])
    example_units = forms.DecimalField(required=False, min_value=Decimal("0"))

    def clean_example_units(self) -> Decimal | None:
        units = self.cleaned_data.get("example_units")
        if units is not None and units > Decimal("1e15"):
            raise ValidationError("Choose at most 1,000,000,000,000,000 units.")
        return units
