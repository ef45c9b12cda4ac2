"""The override form: fields instead of JSON.

A charge's new price is typed with the charge form's property fields and tier rows
(``ChargePropertiesForm``); a discount is one percentage field, for a charge or the base fee;
a feature's value and a credit allowance have a field per setting. Dates take a time zone offset
(without one they are read in the site's time zone, UTC). The form assembles the override's
``value`` for ``subscription_override_create`` and reports every problem, its own and the
service's, as a form message on the field it is about.
"""

from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone

from plans.admin.forms import ChargePropertiesForm
from plans.discounts import DiscountError, discount_percent_parse
from plans.models import CapKind, Charge, Feature, ResetPeriod, Subscription, SubscriptionOverride
from plans.pricing import CHARGE_MODELS
from plans.sentences import moment_text

Kind = SubscriptionOverride.Kind
KEEP = ""
YES_NO = [(KEEP, "unchanged"), ("yes", "yes"), ("no", "no")]
MOMENT_HELP = (
    "e.g. 2027-01-30 00:00 or 2027-01-30 09:00 +01:00. Without an offset the time is read in "
    "{zone}. Leave blank: {blank}."
)
# Where the service's error paths are shown on this form.
SERVICE_FIELDS = {
    "value.amount": "base_amount",
    "value.discount_percent": "discount_percent",
    "value.enabled": "feature_enabled",
    "value.value": "feature_value",
    "value.limit": "feature_limit",
    "value.reset_period": "reset_period",
    "value.cap": "cap",
    "value.charge_model": "charge_model",
}
CREDIT_FIELDS = ("initial_amount", "refill_amount", "expiry_days", "priority")


def _moment_field(label: str, blank: str) -> forms.DateTimeField:
    zone = timezone.get_current_timezone_name()
    return forms.DateTimeField(
        label=f"{label} ({zone} unless an offset is given)",
        required=False,
        help_text=MOMENT_HELP.format(zone=zone, blank=blank),
        widget=forms.TextInput(attrs={"size": 28, "placeholder": "YYYY-MM-DD HH:MM ±HH:MM"}),
    )


class ChargeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Charge) -> str:
        return f"{obj.invoice_display_name or obj.metric.name} ({obj.metric.code})"


class OverrideForm(ChargePropertiesForm):
    kind = forms.ChoiceField(
        label="What changes", choices=Kind.choices, widget=forms.RadioSelect, initial=Kind.CHARGE
    )
    charge = ChargeChoiceField(queryset=Charge.objects.none(), required=False)
    charge_model = forms.ChoiceField(
        label="New price",
        required=False,
        choices=[(KEEP, "keep the plan's price")] + [(m, m.capitalize()) for m in CHARGE_MODELS],
        help_text="Keep the plan's price to give only a discount on it.",
    )
    discount_percent = forms.DecimalField(
        label="Discount (%)",
        required=False,
        help_text="Off the price (a charge) or off the plan's base fee: 20 means 20% off.",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 8}),
    )
    base_amount = forms.DecimalField(
        label="New base fee",
        required=False,
        min_value=Decimal(0),
        help_text="In the plan's currency, instead of a discount.",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 12}),
    )
    feature = forms.ModelChoiceField(queryset=Feature.objects.all(), required=False)
    feature_enabled = forms.ChoiceField(label="Enabled", choices=YES_NO, required=False)
    feature_value = forms.CharField(label="Value", required=False, max_length=200)
    feature_limit = forms.DecimalField(
        label="Limit", required=False, min_value=Decimal(0), help_text="Units per reset period."
    )
    feature_unlimited = forms.BooleanField(label="Unlimited", required=False)
    reset_period = forms.ChoiceField(
        label="Resets", choices=[(KEEP, "unchanged"), *ResetPeriod.choices], required=False
    )
    cap = forms.ChoiceField(
        label="Cap", choices=[(KEEP, "unchanged"), *CapKind.choices], required=False
    )
    initial_amount = forms.DecimalField(label="Initial credits", required=False, min_value=0)
    refill_amount = forms.DecimalField(label="Refill each period", required=False, min_value=0)
    expiry_days = forms.IntegerField(label="Expire after (days)", required=False, min_value=1)
    priority = forms.IntegerField(label="Burn priority", required=False, min_value=0)
    renew_on_billing = forms.ChoiceField(label="Renew each period", choices=YES_NO, required=False)
    billing_visible = forms.ChoiceField(label="Shown on invoices", choices=YES_NO, required=False)
    valid_from = _moment_field("Starts", "now")
    valid_until = _moment_field("Ends", "until ended by hand")
    reason = forms.CharField(
        label="Reason", widget=forms.Textarea(attrs={"rows": 2, "cols": 60}), max_length=2000
    )

    def __init__(self, *args: Any, subscription: Subscription, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.subscription = subscription
        versions = [subscription.version_id, subscription.scheduled_version_id]
        charges = Charge.objects.filter(version_id__in=versions).select_related("metric")
        self.fields["charge"].queryset = charges.order_by("position", "id")
        self.fields["feature"].queryset = Feature.objects.order_by("name")
        self.value: dict[str, Any] = {}

    def selected_model(self) -> str | None:
        if self.cleaned_data.get("kind") != Kind.CHARGE:
            return None
        return self.cleaned_data.get("charge_model") or None

    def clean_discount_percent(self) -> Decimal | None:
        value = self.cleaned_data.get("discount_percent")
        if value is None:
            return None
        try:
            return discount_percent_parse(value)
        except DiscountError as error:
            raise forms.ValidationError(str(error)) from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("valid_from"), cleaned.get("valid_until")
        if start and end and end <= start:
            self.add_error(
                "valid_until",
                f"The override would end before it starts: choose an end after "
                f"{moment_text(timezone.localtime(start))}.",
            )
        kind = cleaned.get("kind")
        if kind == Kind.BASE_FEE:
            self._clean_base_fee(cleaned)
        elif kind == Kind.CHARGE:
            self._clean_charge(cleaned)
        elif kind == Kind.FEATURE:
            self._clean_feature(cleaned)
        elif kind == Kind.CREDIT:
            self._clean_credit(cleaned)
        return cleaned

    def _clean_base_fee(self, cleaned: dict[str, Any]) -> None:
        amount, discount = cleaned.get("base_amount"), cleaned.get("discount_percent")
        if amount is None and discount is None and "discount_percent" not in self.errors:
            self.add_error("discount_percent", "Give a discount, or a new base fee below.")
        elif amount is not None and discount is not None:
            self.add_error("base_amount", "Give either a new base fee or a discount, not both.")
        elif amount is not None:
            self.value = {"amount": format(amount, "f")}
        elif discount is not None:
            self.value = {"discount_percent": format(discount, "f")}

    def _clean_charge(self, cleaned: dict[str, Any]) -> None:
        if cleaned.get("charge") is None:
            self.add_error("charge", "Choose the charge this override changes.")
        model, discount = cleaned.get("charge_model"), cleaned.get("discount_percent")
        if not model and discount is None and "discount_percent" not in self.errors:
            self.add_error(None, "Give the charge a new price, a discount, or both.")
        if model:
            self.value["charge_model"] = model
            self.value["properties"] = self.properties
        if discount is not None:
            self.value["discount_percent"] = format(discount, "f")

    def _clean_feature(self, cleaned: dict[str, Any]) -> None:
        feature: Feature | None = cleaned.get("feature")
        if feature is None:
            self.add_error("feature", "Choose the feature this override changes.")
            return
        if feature.kind == Feature.Kind.BOOLEAN:
            if not cleaned.get("feature_enabled"):
                self.add_error("feature_enabled", f"Say whether {feature.name} is enabled.")
            self.value = {"enabled": cleaned.get("feature_enabled") == "yes"}
        elif feature.kind == Feature.Kind.STATIC:
            if not cleaned.get("feature_value"):
                self.add_error("feature_value", f"Give {feature.name}'s value.")
            self.value = {"value": cleaned.get("feature_value")}
        else:
            limit = cleaned.get("feature_limit")
            if cleaned.get("feature_unlimited"):
                self.value["limit"] = None
            elif limit is not None:
                self.value["limit"] = format(limit, "f")
            for name in ("reset_period", "cap"):
                if cleaned.get(name):
                    self.value[name] = cleaned[name]
            if not self.value:
                self.add_error("feature_limit", "Give a limit (or unlimited), a reset or a cap.")

    def _clean_credit(self, cleaned: dict[str, Any]) -> None:
        for name in CREDIT_FIELDS:
            if cleaned.get(name) is not None:
                number = cleaned[name]
                self.value[name] = number if isinstance(number, int) else format(number, "f")
        for name in ("renew_on_billing", "billing_visible"):
            if cleaned.get(name):
                self.value[name] = cleaned[name] == "yes"
        if not self.value:
            self.add_error("initial_amount", "Give at least one setting of the allowance.")

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        kind = data["kind"]
        return {
            "kind": kind,
            "value": self.value,
            "charge": data.get("charge") if kind == Kind.CHARGE else None,
            "feature": data.get("feature") if kind in (Kind.FEATURE, Kind.CREDIT) else None,
            "valid_from": data.get("valid_from"),
            "valid_until": data.get("valid_until"),
            "reason": data["reason"],
        }

    def add_service_error(self, field: str | None, message: str) -> bool:
        """The service's error paths on this form's fields (see SERVICE_FIELDS)."""
        if field and field.startswith("value.properties."):
            self.add_property_error(field.removeprefix("value.properties."), message)
            return True
        if field in SERVICE_FIELDS:
            self.add_error(SERVICE_FIELDS[field], message)
            return True
        if field and field.startswith("value."):
            name = field.removeprefix("value.")
            self.add_error(name if name in CREDIT_FIELDS else None, message)
            return True
        return False
