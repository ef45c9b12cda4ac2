from rest_framework import serializers

from billing_site.core.api.fields import JsonObjectField
from billing_site.core.api.pagination import PageInputSerializer
from billing_site.core.money import CURRENCY_CODE_REGEX
from plans.models import Customer

_CURRENCY = {
    "max_length": 3,
    "regex": CURRENCY_CODE_REGEX,
    "error_messages": {"invalid": "Use an ISO 4217 code: three upper-case letters, e.g. USD."},
}


def _member_id() -> serializers.RegexField:
    # Surrounding spaces are trimmed, so an id must hold a visible character (the schema says so).
    return serializers.RegexField(
        r"\S",
        max_length=255,
        error_messages={"invalid": "A member id holds at least one visible character."},
    )


class CustomerCreateInputSerializer(serializers.Serializer):
    external_id = serializers.RegexField(
        r"^[^/]+$",
        max_length=255,
        error_messages={"invalid": "Must not contain '/': the id is part of the customer's URL."},
    )
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    currency = serializers.RegexField(required=False, allow_blank=True, default="", **_CURRENCY)
    metadata = JsonObjectField(required=False, default=dict)
    member_ids = serializers.ListField(child=_member_id(), required=False, default=list)


class CustomerUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    currency = serializers.RegexField(required=False, allow_blank=True, **_CURRENCY)
    metadata = JsonObjectField(required=False)

    def validate(self, attrs: dict) -> dict:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {field: ["This field cannot be updated."] for field in unknown}
            )
        return attrs


class CustomerListInputSerializer(PageInputSerializer):
    search = serializers.CharField(required=False, allow_blank=True, default="")
    archived = serializers.BooleanField(required=False, allow_null=True, default=None)


class CustomerMembersSetInputSerializer(serializers.Serializer):
    member_ids = serializers.ListField(child=_member_id(), allow_empty=True)


class CustomerArchiveInputSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class CustomerOutputSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    name = serializers.CharField()
    email = serializers.CharField()
    currency = serializers.CharField()
    metadata = serializers.DictField()
    member_ids = serializers.SerializerMethodField()
    archived = serializers.BooleanField(source="is_archived")
    archived_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_member_ids(self, customer: Customer) -> list[str]:
        return sorted(member.member_id for member in customer.members.all())


class CustomerListOutputSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()
    results = CustomerOutputSerializer(many=True)
