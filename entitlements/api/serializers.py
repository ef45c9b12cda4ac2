from decimal import Decimal
from typing import Any

from rest_framework import serializers

from credits.api.serializers import UnitsField
from entitlements.decision import REASONS
from entitlements.services import MAX_HOLD_SECONDS


def _quantity(**kwargs: Any) -> UnitsField:
    return UnitsField(min_value=Decimal("0.0001"), **kwargs)


class EntitlementCheckInputSerializer(serializers.Serializer):
    quantity = _quantity(required=False, default=Decimal(1), help_text="Units wanted (default 1).")


class EntitlementOutputSerializer(serializers.Serializer):
    feature = serializers.CharField()
    kind = serializers.CharField(allow_null=True, help_text="boolean, static or metered.")
    allowed = serializers.BooleanField()
    reason = serializers.ChoiceField(choices=REASONS)
    quantity = UnitsField()
    enabled = serializers.BooleanField(allow_null=True)
    value = serializers.JSONField(allow_null=True, help_text="A static feature's value.")
    limit = UnitsField(allow_null=True, help_text="Per window; null when unlimited.")
    used = UnitsField(allow_null=True, help_text="This window's usage (metered).")
    credits = UnitsField(help_text="Credits available.")
    held = UnitsField(help_text="Units set aside by open holds.")
    remaining = UnitsField(allow_null=True, help_text="Null when unlimited.")
    cap = serializers.CharField(allow_null=True)
    reset_period = serializers.CharField(allow_null=True)
    period_start = serializers.DateTimeField(allow_null=True)
    period_end = serializers.DateTimeField(allow_null=True)
    subscription_id = serializers.CharField(source="subscription_external_id", allow_null=True)
    plan = serializers.CharField(source="plan_code", allow_null=True)
    source = serializers.CharField(allow_null=True, help_text="plan, or override.")


class EntitlementListOutputSerializer(serializers.Serializer):
    customer_id = serializers.CharField()
    entitlements = EntitlementOutputSerializer(many=True)


class EntitlementConsumeInputSerializer(serializers.Serializer):
    transaction_id = serializers.CharField(max_length=200, help_text="Idempotency key.")
    quantity = _quantity(required=False, default=Decimal(1))
    properties = serializers.DictField(
        required=False, default=dict, help_text="Event properties recorded with the usage."
    )


class EntitlementConsumeOutputSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="ok, or overage (a soft cap's billed excess).")
    feature = serializers.CharField()
    transaction_id = serializers.CharField()
    quantity = serializers.CharField()
    credits_applied = serializers.CharField()
    overage = serializers.CharField()
    limit = serializers.CharField(allow_null=True)
    used = serializers.CharField(allow_null=True)
    credits = serializers.CharField(allow_null=True)
    held = serializers.CharField(allow_null=True)
    remaining = serializers.CharField(allow_null=True)
    cap = serializers.CharField(allow_null=True)
    period_start = serializers.DateTimeField(allow_null=True)
    period_end = serializers.DateTimeField(allow_null=True)
    alerts = serializers.ListField(child=serializers.IntegerField(), help_text="Fired now.")


class PaymentRequiredDetailSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=["limit_reached", "insufficient_credits"])
    message = serializers.CharField()
    fields = serializers.DictField()
    available = serializers.CharField()
    requested = serializers.CharField()
    limit = serializers.CharField(allow_null=True)
    used = serializers.CharField(allow_null=True)
    credits = serializers.CharField(allow_null=True)
    held = serializers.CharField(allow_null=True)
    period_end = serializers.DateTimeField(allow_null=True)
    upgrade = serializers.ListField(
        child=serializers.CharField(), help_text="Plans whose limit would allow it."
    )


class PaymentRequiredSerializer(serializers.Serializer):
    error = PaymentRequiredDetailSerializer()


class HoldReserveInputSerializer(serializers.Serializer):
    quantity = _quantity()
    ttl_seconds = serializers.IntegerField(min_value=1, max_value=MAX_HOLD_SECONDS)


class HoldCommitInputSerializer(serializers.Serializer):
    quantity = _quantity(help_text="The actual usage, at most the quantity held.")


class HoldOutputSerializer(serializers.Serializer):
    hold_id = serializers.UUIDField()
    feature = serializers.CharField()
    quantity = serializers.CharField()
    status = serializers.CharField()
    expires_at = serializers.DateTimeField()
    committed_quantity = serializers.CharField(allow_null=True)
    remaining = serializers.CharField(allow_null=True)
