"""Invoice API serializers: plain output serializers over invoices, lines and running
periods. Money is a decimal string in the currency's form ("12.30"), quantities exact."""

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from billing_site.core.api.pagination import PageInputSerializer
from billing_site.core.money import quantize
from invoices.models import InvoiceStatus


def _money(value: Decimal, currency: str) -> str:
    return format(quantize(Decimal(value), currency), "f")


def _plain(value: Decimal) -> str:
    return format(Decimal(value).normalize(), "f")


class InvoiceListInputSerializer(PageInputSerializer):
    customer = serializers.CharField(
        required=False, default="", allow_blank=True, help_text="External id; empty for all."
    )
    status = serializers.ChoiceField(
        choices=InvoiceStatus.values, required=False, allow_blank=True, default=""
    )


class InvoiceLineOutputSerializer(serializers.Serializer):
    kind = serializers.CharField()
    description = serializers.CharField()
    quantity = serializers.CharField()
    unit_amount = serializers.CharField()
    amount = serializers.CharField(help_text="Rounded once, half-up, to the minor unit.")
    amount_precise = serializers.CharField(help_text="The exact amount before rounding.")
    period_start = serializers.DateTimeField()
    period_end = serializers.DateTimeField()
    metric = serializers.CharField(allow_blank=True)
    group = serializers.CharField(allow_blank=True)
    event_count = serializers.IntegerField()
    events_digest = serializers.CharField(allow_blank=True)
    breakdown = serializers.JSONField()

    def to_representation(self, line: Any) -> dict[str, Any]:
        currency = self.context["currency"]
        return {
            "kind": line.kind,
            "description": line.description,
            "quantity": _plain(line.quantity),
            "unit_amount": _plain(line.unit_amount),
            "amount": _money(line.amount, currency),
            "amount_precise": _plain(line.amount_precise),
            "period_start": serializers.DateTimeField().to_representation(line.line_start),
            "period_end": serializers.DateTimeField().to_representation(line.line_end),
            "metric": line.metric_code,
            "group": line.group_key,
            "event_count": line.event_count,
            "events_digest": line.events_digest,
            "breakdown": line.breakdown,
        }


class InvoiceOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=InvoiceStatus.values)
    kind = serializers.CharField()
    customer = serializers.CharField(source="customer.external_id")
    subscription = serializers.CharField(
        source="subscription.external_id", allow_null=True, help_text="None for a one-off."
    )
    currency = serializers.CharField()
    period_start = serializers.DateTimeField()
    period_end = serializers.DateTimeField()
    total = serializers.SerializerMethodField()
    issued_at = serializers.DateTimeField()
    finalized_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    paid_at = serializers.DateTimeField(allow_null=True)
    voided_at = serializers.DateTimeField(allow_null=True)
    payment_status = serializers.CharField(allow_blank=True)
    lines = serializers.SerializerMethodField()

    def get_total(self, invoice: Any) -> str:
        return _money(invoice.total, invoice.currency)

    def get_lines(self, invoice: Any) -> list[dict[str, Any]]:
        context = {"currency": invoice.currency}
        return [
            InvoiceLineOutputSerializer(line, context=context).data for line in invoice.lines.all()
        ]


class InvoiceListOutputSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()
    results = InvoiceOutputSerializer(many=True)


class RunningPeriodOutputSerializer(serializers.Serializer):
    subscription = serializers.CharField(source="subscription.external_id")
    plan = serializers.CharField(source="subscription.version.plan.code")
    currency = serializers.CharField()
    period_start = serializers.DateTimeField()
    period_end = serializers.DateTimeField()
    computed_at = serializers.DateTimeField()
    total = serializers.SerializerMethodField()
    lines = serializers.SerializerMethodField()

    def get_total(self, running: Any) -> str:
        return _money(running.total, running.currency)

    def get_lines(self, running: Any) -> list[dict[str, Any]]:
        context = {"currency": running.currency}
        return [InvoiceLineOutputSerializer(line, context=context).data for line in running.lines]


class CurrentUsageOutputSerializer(serializers.Serializer):
    customer = serializers.CharField()
    subscriptions = RunningPeriodOutputSerializer(many=True)
