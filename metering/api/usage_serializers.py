from typing import Any

from dateutil.relativedelta import relativedelta
from rest_framework import serializers

from billing_site.core.api.fields import AwareDateTimeField, period_validate


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
        period_validate(attrs["from"], attrs["to"], max_span=relativedelta(years=1))
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
