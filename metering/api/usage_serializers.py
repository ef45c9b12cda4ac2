import re
from datetime import UTC, datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from django.utils import timezone
from rest_framework import serializers

# "2026-03-01T00:00:00 01:00": a '+' sent unencoded in a query string arrives as a space.
_UNENCODED_PLUS = re.compile(r"^(.*T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with an offset (or Z), returned in UTC; a naive datetime is refused."""

    def to_internal_value(self, value: Any) -> datetime:
        if isinstance(value, str) and (match := _UNENCODED_PLUS.match(value.strip())):
            value = f"{match[1]}+{match[2]}"
        return super().to_internal_value(value)

    def enforce_timezone(self, value: datetime) -> datetime:
        if timezone.is_naive(value):
            raise serializers.ValidationError(
                "Give the offset: ISO 8601 such as 2026-03-01T00:00:00Z or "
                "2026-03-01T00:00:00+01:00 (URL-encode '+' as %2B)."
            )
        return value.astimezone(UTC)


def _rename(fields: dict[str, Any], python_name: str, json_name: str) -> dict[str, Any]:
    """`from` is a Python keyword: declare the field as `from_` and expose it as `from`."""
    renamed = {}
    for name, field in fields.items():
        renamed[json_name if name == python_name else name] = field
    return renamed


class CustomerUsageGetInputSerializer(serializers.Serializer):
    metric = serializers.CharField(
        required=False, max_length=100, help_text="A metric code; all metrics when omitted."
    )
    from_ = AwareDateTimeField(help_text="Period start (included), ISO 8601 with offset.")
    to = AwareDateTimeField(help_text="Period end (excluded), ISO 8601 with offset.")
    subscription_id = serializers.CharField(
        required=False, max_length=255, help_text="Only the events of this subscription."
    )

    def get_fields(self) -> dict[str, Any]:
        return _rename(super().get_fields(), "from_", "from")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs["from"], attrs["to"]
        if end <= start:
            raise serializers.ValidationError({"to": ["Must be after from."]})
        if end > start + relativedelta(years=1):
            raise serializers.ValidationError({"to": ["The period can span at most one year."]})
        return attrs


class CustomerUsageItemOutputSerializer(serializers.Serializer):
    metric = serializers.CharField(help_text="The metric's code.")
    name = serializers.CharField()
    aggregation = serializers.CharField()
    quantity = serializers.DecimalField(
        max_digits=None, decimal_places=None, help_text="Rounded as the metric says."
    )
    event_count = serializers.IntegerField(help_text="Events of the period that contributed.")


class CustomerUsageGetOutputSerializer(serializers.Serializer):
    customer_id = serializers.CharField()
    from_ = serializers.DateTimeField()
    to = serializers.DateTimeField()
    usage = CustomerUsageItemOutputSerializer(many=True)

    def get_fields(self) -> dict[str, Any]:
        return _rename(super().get_fields(), "from_", "from")
