"""Request and response shapes of the metering API, for the OpenAPI schema.

The ingest endpoints do not run these per event (the hot path validates with msgspec in
`metering.ingest.parsing`); they document the contract that parsing enforces.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from metering.ingest.envelopes import MAX_BATCH_EVENTS
from metering.ingest.parsing import MAX_ID_LENGTH


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "format": "date-time", "example": "2026-05-01T12:00:00Z"},
            {"type": "number", "example": 1777636800.5},
        ],
        "description": "ISO 8601 with an offset, or Unix seconds (integer or decimal). "
        "Defaults to the time of receipt; at most 24 hours in the future.",
    }
)
class EventTimestampField(serializers.Field):
    pass


class UsageEventIngestInputSerializer(serializers.Serializer):
    transaction_id = serializers.CharField(
        max_length=MAX_ID_LENGTH,
        help_text="Unique per customer, forever: resending it is a duplicate, not a new event.",
    )
    customer_id = serializers.CharField(
        max_length=MAX_ID_LENGTH,
        help_text="The customer's external id, or one of its members' ids (e.g. a seat user).",
    )
    code = serializers.CharField(help_text="The billable metric's code.")
    subscription_id = serializers.CharField(
        max_length=MAX_ID_LENGTH, required=False, allow_null=True
    )
    timestamp = EventTimestampField(required=False, allow_null=True)
    properties = serializers.DictField(
        required=False,
        allow_null=True,
        help_text="A JSON object of at most 8 KiB; the property a sum, max, last or "
        "weighted_sum metric reads must be a number or a decimal string.",
    )


class UsageEventIngestOutputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["accepted", "duplicate"])
    transaction_id = serializers.CharField()
    customer_id = serializers.CharField(help_text="As sent.")


class UsageEventBatchIngestInputSerializer(serializers.Serializer):
    events = serializers.ListField(
        child=UsageEventIngestInputSerializer(), min_length=1, max_length=MAX_BATCH_EVENTS
    )


class UsageEventBatchResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The event's position in the request.")
    status = serializers.ChoiceField(choices=["accepted", "duplicate", "conflict", "rejected"])
    field = serializers.CharField(required=False, help_text="Only when rejected.")
    reason = serializers.CharField(required=False, help_text="Only when rejected.")


class UsageEventBatchIngestOutputSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    conflicts = serializers.IntegerField()
    rejected = serializers.IntegerField()
    results = UsageEventBatchResultSerializer(many=True)


class UsageEventLookupKeySerializer(serializers.Serializer):
    customer_id = serializers.CharField(
        max_length=MAX_ID_LENGTH, help_text="As sent at ingest: a customer or member id."
    )
    transaction_id = serializers.CharField(max_length=MAX_ID_LENGTH)


class UsageEventLookupInputSerializer(serializers.Serializer):
    events = serializers.ListField(
        child=UsageEventLookupKeySerializer(), min_length=1, max_length=MAX_BATCH_EVENTS
    )


class UsageEventLookupResultSerializer(serializers.Serializer):
    customer_id = serializers.CharField()
    transaction_id = serializers.CharField()
    found = serializers.BooleanField()
    received_at = serializers.DateTimeField(required=False)
    timestamp = serializers.DateTimeField(required=False)
    payload_hash = serializers.CharField(required=False)
    code = serializers.CharField(required=False)


class UsageEventLookupOutputSerializer(serializers.Serializer):
    results = UsageEventLookupResultSerializer(many=True)
