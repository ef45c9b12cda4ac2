"""Input of ``POST /api/v1/invoices/one_off``; the answer is the invoice's usual output."""

from decimal import Decimal

from rest_framework import serializers

from invoices.addon_models import ADD_ON_MAX_AMOUNT
from invoices.services.one_off import MAX_ITEMS

# quantity × unit price × items stays inside the money columns (see addon_models).
MAX_QUANTITY = 100_000


class OneOffItemInputSerializer(serializers.Serializer):
    add_on = serializers.CharField(max_length=100, help_text="The add-on's code.")
    quantity = serializers.DecimalField(
        max_digits=18,
        decimal_places=6,
        min_value=Decimal("0.000001"),
        max_value=Decimal(MAX_QUANTITY),
        required=False,
        default=Decimal(1),
    )
    unit_price = serializers.DecimalField(
        max_digits=22,
        decimal_places=12,
        min_value=Decimal(0),
        max_value=Decimal(ADD_ON_MAX_AMOUNT),
        required=False,
        allow_null=True,
        default=None,
        help_text="Overrides the add-on's price for this invoice; in the add-on's currency.",
    )
    description = serializers.CharField(
        max_length=300,
        required=False,
        allow_blank=True,
        default="",
        help_text="The line's text; the add-on's description (or name) when empty.",
    )


class OneOffInvoiceCreateInputSerializer(serializers.Serializer):
    customer = serializers.CharField(max_length=255, help_text="The customer's external id.")
    idempotency_key = serializers.CharField(
        max_length=255,
        help_text="Unique per invoice: a retry with the same key and body returns the same "
        "invoice (200); the same key with another body is a 409.",
    )
    items = OneOffItemInputSerializer(many=True, min_length=1, max_length=MAX_ITEMS)
    finalize = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Finalize at once (number, due date, Stripe); otherwise a draft for review.",
    )
