from rest_framework import serializers


class ChargeOutputSerializer(serializers.Serializer):
    metric = serializers.CharField(source="metric.code")
    metric_name = serializers.CharField(source="metric.name")
    charge_model = serializers.CharField()
    properties = serializers.DictField()
    invoice_display_name = serializers.CharField()
    min_amount = serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True)
    pay_in_advance = serializers.BooleanField(
        help_text="Billed per event as usage arrives (fee invoices), not at the period's end."
    )


class PlanFeatureOutputSerializer(serializers.Serializer):
    feature = serializers.CharField(source="feature.slug")
    name = serializers.CharField(source="feature.name")
    kind = serializers.CharField(source="feature.kind")
    enabled = serializers.BooleanField()
    value = serializers.JSONField(allow_null=True)
    limit = serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True)
    unlimited = serializers.SerializerMethodField()
    reset_period = serializers.CharField()
    cap = serializers.CharField()

    def get_unlimited(self, pf) -> bool:  # noqa: ANN001 - DRF passes the instance
        return pf.feature.kind == "metered" and pf.limit is None


class PlanOutputSerializer(serializers.Serializer):
    """A plan as its latest published version describes it."""

    code = serializers.CharField(source="plan.code")
    name = serializers.CharField(source="plan.name")
    description = serializers.CharField(source="plan.description")
    version = serializers.IntegerField(source="number")
    currency = serializers.CharField()
    interval = serializers.CharField()
    base_fee = serializers.DecimalField(max_digits=20, decimal_places=4)
    base_fee_in_advance = serializers.BooleanField()
    trial_days = serializers.IntegerField()
    invoice_grace_days = serializers.IntegerField()
    net_payment_days = serializers.IntegerField()
    published_at = serializers.DateTimeField()
    charges = ChargeOutputSerializer(many=True)
    features = PlanFeatureOutputSerializer(many=True)


class PlanListOutputSerializer(serializers.Serializer):
    results = PlanOutputSerializer(many=True)


class PricingQuoteGroupInputSerializer(serializers.Serializer):
    group = serializers.DictField(
        child=serializers.CharField(allow_null=True),
        help_text='The grouping properties\' values, e.g. {"region": "us"}.',
    )
    units = serializers.DecimalField(max_digits=None, decimal_places=None, min_value=0)


class PricingQuoteInputSerializer(serializers.Serializer):
    plan = serializers.CharField(max_length=100)
    version = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    metric = serializers.CharField(max_length=100)
    units = serializers.DecimalField(
        max_digits=None,
        decimal_places=None,
        min_value=0,
        required=False,
        help_text="Required unless groups are given.",
    )
    event_values = serializers.ListField(
        child=serializers.DecimalField(max_digits=None, decimal_places=None, min_value=0),
        required=False,
        default=list,
    )
    properties = serializers.DictField(
        required=False,
        default=dict,
        help_text="Event properties: pick the charge filter such events go to.",
    )
    groups = PricingQuoteGroupInputSerializer(
        many=True,
        required=False,
        default=list,
        help_text="Units per pricing group (a charge with grouped_by): each is priced apart.",
    )

    def validate(self, attrs: dict) -> dict:
        if "units" not in attrs and not attrs.get("groups"):
            raise serializers.ValidationError({"units": ["Give units, or units per group."]})
        return attrs


class BreakdownRowOutputSerializer(serializers.Serializer):
    label = serializers.CharField()
    units = serializers.CharField()
    unit_price = serializers.CharField()
    flat_amount = serializers.CharField()
    amount = serializers.CharField()


class PricingQuoteGroupOutputSerializer(serializers.Serializer):
    group = serializers.DictField(child=serializers.CharField(allow_null=True))
    units = serializers.CharField()
    amount = serializers.CharField()
    breakdown = BreakdownRowOutputSerializer(many=True)


class PricingQuoteOutputSerializer(serializers.Serializer):
    plan = serializers.CharField()
    version = serializers.IntegerField()
    metric = serializers.CharField()
    charge_model = serializers.CharField()
    currency = serializers.CharField()
    units = serializers.CharField()
    amount = serializers.CharField(help_text="Exact, unrounded.")
    amount_rounded = serializers.CharField(help_text="Half-up to the currency's minor unit.")
    breakdown = BreakdownRowOutputSerializer(many=True)
    filter_index = serializers.IntegerField(
        allow_null=True, help_text="The charge filter that priced it; null: the default."
    )
    groups = PricingQuoteGroupOutputSerializer(many=True)
