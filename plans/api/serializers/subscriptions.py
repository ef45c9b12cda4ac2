from django.utils import timezone
from rest_framework import serializers

from billing_site.core.api.fields import (
    AwareDateTimeField,
    JsonBooleanField,
    JsonValueField,
    duration_days_field,
)
from plans.models import BillingTime, Subscription, SubscriptionOverride
from plans.services import CHANGE_TIMINGS


class SubscriptionCreateInputSerializer(serializers.Serializer):
    customer = serializers.CharField(max_length=255, help_text="The customer's external id.")
    plan = serializers.CharField(max_length=100, help_text="The plan's code.")
    version = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        default=None,
        help_text="A published version number; the latest published one by default.",
    )
    external_id = serializers.CharField(
        max_length=255, required=False, allow_blank=True, default=""
    )
    started_at = AwareDateTimeField(required=False, allow_null=True, default=None)
    billing_time = serializers.ChoiceField(
        choices=BillingTime.choices, default=BillingTime.ANNIVERSARY
    )
    trial_days = duration_days_field(required=False, allow_null=True, default=None)


class SubscriptionListInputSerializer(serializers.Serializer):
    customer = serializers.CharField(max_length=255, help_text="The customer's external id.")
    status = serializers.ChoiceField(
        choices=Subscription.Status.choices, required=False, allow_blank=True, default=""
    )


class SubscriptionCancelInputSerializer(serializers.Serializer):
    at_period_end = JsonBooleanField(default=True)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class SubscriptionChangePlanInputSerializer(serializers.Serializer):
    plan = serializers.CharField(max_length=100)
    version = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    timing = serializers.ChoiceField(
        choices=CHANGE_TIMINGS,
        required=False,
        allow_null=True,
        default=None,
        help_text="Default: upgrades immediately, downgrades at period end.",
    )
    effective_at = AwareDateTimeField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, attrs: dict) -> dict:
        if attrs["timing"] == "effective" and attrs["effective_at"] is None:
            raise serializers.ValidationError(
                {"effective_at": ["Required when timing is 'effective'."]}
            )
        if attrs["timing"] != "effective" and attrs["effective_at"] is not None:
            raise serializers.ValidationError(
                {"effective_at": ["Only used with timing 'effective'."]}
            )
        return attrs


class ScheduledChangeOutputSerializer(serializers.Serializer):
    plan = serializers.CharField(source="scheduled_version.plan.code")
    version = serializers.IntegerField(source="scheduled_version.number")
    at = serializers.DateTimeField(source="scheduled_change_at")


class SubscriptionOutputSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    customer = serializers.CharField(source="customer.external_id")
    plan = serializers.CharField(source="version.plan.code")
    version = serializers.IntegerField(source="version.number")
    currency = serializers.CharField(source="version.currency")
    status = serializers.CharField()
    billing_time = serializers.CharField()
    started_at = serializers.DateTimeField()
    trial_ends_at = serializers.DateTimeField(allow_null=True)
    billing_anchor = serializers.DateTimeField()
    current_period_start = serializers.DateTimeField()
    current_period_end = serializers.DateTimeField()
    cancel_at_period_end = serializers.BooleanField()
    canceled_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    scheduled_change = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_scheduled_change(self, subscription: Subscription) -> dict | None:
        if subscription.scheduled_version_id is None:
            return None
        return ScheduledChangeOutputSerializer(subscription).data


class SubscriptionListOutputSerializer(serializers.Serializer):
    results = SubscriptionOutputSerializer(many=True)


class SubscriptionOverrideCreateInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=SubscriptionOverride.Kind.choices)
    metric = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="For a charge override: the metric whose charge it changes.",
    )
    feature = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="For a feature (or credit) override: the feature's slug.",
    )
    value = JsonValueField(
        help_text='By kind. Base fee: {"amount": "39.00"} or {"discount_percent": "20"}. Charge: '
        '{"charge_model", "properties"} in the charge model\'s schema, {"discount_percent"} (off '
        'every price of the charge), or both. Feature: {"enabled"}, {"value"} or '
        '{"limit", "reset_period", "cap"}. Credit: the allowance\'s settings.'
    )
    valid_from = AwareDateTimeField(required=False, allow_null=True, default=None)
    valid_until = AwareDateTimeField(required=False, allow_null=True, default=None)
    reason = serializers.CharField()


class SubscriptionOverrideEndInputSerializer(serializers.Serializer):
    at = AwareDateTimeField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class SubscriptionOverrideOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    kind = serializers.CharField()
    metric = serializers.SerializerMethodField()
    feature = serializers.SerializerMethodField()
    value = JsonValueField()
    valid_from = serializers.DateTimeField(allow_null=True)
    valid_until = serializers.DateTimeField(allow_null=True)
    state = serializers.SerializerMethodField(help_text="scheduled, active, ended or withdrawn.")
    reason = serializers.CharField()
    created_by = serializers.CharField(source="created_by_label")
    created_at = serializers.DateTimeField(allow_null=True)

    def get_metric(self, override: SubscriptionOverride) -> str | None:
        return override.charge.metric.code if override.charge_id else None

    def get_feature(self, override: SubscriptionOverride) -> str | None:
        return override.feature.slug if override.feature_id else None

    def get_state(self, override: SubscriptionOverride) -> str:
        if override.pk is None:
            return "withdrawn"
        now = timezone.now()
        if override.valid_from is not None and now < override.valid_from:
            return "scheduled"
        if override.valid_until is not None and override.valid_until <= now:
            return "ended"
        return "active"


class SubscriptionOverrideListOutputSerializer(serializers.Serializer):
    results = SubscriptionOverrideOutputSerializer(many=True)
