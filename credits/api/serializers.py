from decimal import Decimal
from typing import Any

from rest_framework import serializers


class UnitsField(serializers.DecimalField):
    """A quantity of units: exact decimal, written without trailing zeros ("10", "2.5")."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 20)
        kwargs.setdefault("decimal_places", 4)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str | None:
        if value is None:
            return None
        return format(Decimal(value).normalize(), "f")


class GrantBalanceOutputSerializer(serializers.Serializer):
    grant_id = serializers.IntegerField()
    feature = serializers.CharField(source="feature_slug")
    amount = UnitsField()
    remaining = UnitsField()
    priority = serializers.IntegerField()
    effective_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True, help_text="Null: never expires.")
    source = serializers.CharField()


class FeatureBalanceOutputSerializer(serializers.Serializer):
    feature = serializers.CharField()
    balance = UnitsField()


class CreditBalanceOutputSerializer(serializers.Serializer):
    customer_id = serializers.CharField()
    at = serializers.DateTimeField()
    balances = FeatureBalanceOutputSerializer(many=True)
    grants = GrantBalanceOutputSerializer(many=True, help_text="Usable grants in burn order.")
