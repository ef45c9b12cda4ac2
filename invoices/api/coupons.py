"""Coupons API: give a coupon to a customer by its code."""

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_site.core.api.serializers import ERROR_RESPONSE
from billing_site.core.exceptions import NotFoundError
from billing_site.core.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from invoices.adjustment_models import PERCENT_DIGITS, PERCENT_PLACES, AppliedCoupon
from invoices.services.coupons import coupon_apply
from plans.selectors import customer_get

TAGS = ["coupons"]


class CustomerCouponApplyInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=100, help_text="The coupon's code.")
    amount = serializers.DecimalField(
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        min_value=Decimal(0),
        required=False,
        allow_null=True,
        default=None,
        help_text="This customer's own amount for a fixed coupon (in the coupon's currency).",
    )
    percentage = serializers.DecimalField(
        max_digits=PERCENT_DIGITS,
        decimal_places=PERCENT_PLACES,
        min_value=Decimal(0),
        max_value=Decimal(100),
        required=False,
        allow_null=True,
        default=None,
        help_text="This customer's own rate for a percentage coupon (10 = 10 %).",
    )


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


class AppliedCouponOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    customer = serializers.CharField(help_text="The customer's external id.")
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=["fixed", "percentage"])
    amount = serializers.CharField(
        allow_null=True, help_text="The discount of a fixed coupon (this customer's if set)."
    )
    currency = serializers.CharField(allow_blank=True)
    percentage = serializers.CharField(allow_null=True)
    duration = serializers.ChoiceField(choices=["once", "periods", "forever"])
    periods_remaining = serializers.IntegerField(allow_null=True)
    amount_remaining = serializers.CharField(
        allow_null=True, help_text="A fixed coupon's balance carried to the next invoice."
    )
    status = serializers.ChoiceField(choices=AppliedCoupon.Status.values)
    created_at = serializers.DateTimeField()

    def to_representation(self, applied: AppliedCoupon) -> dict[str, Any]:
        coupon = applied.coupon
        amount = applied.amount if applied.amount is not None else coupon.amount
        rate = applied.percentage if applied.percentage is not None else coupon.percentage
        return {
            "id": applied.pk,
            "customer": applied.customer.external_id,
            "code": coupon.code,
            "name": coupon.name,
            "kind": coupon.kind,
            "amount": _decimal(amount),
            "currency": coupon.currency,
            "percentage": _decimal(rate),
            "duration": coupon.duration,
            "periods_remaining": applied.periods_remaining,
            "amount_remaining": _decimal(applied.amount_remaining),
            "status": applied.status,
            "created_at": serializers.DateTimeField().to_representation(applied.created_at),
        }


class CustomerCouponApplyApi(APIView):
    """Apply a coupon to a customer by its code, optionally on terms of its own. The coupon
    then discounts the customer's next invoices (before taxes). `percentage` is a decimal string
    between 0 and 100 and `amount` one of at least 0 (a 400 naming the field otherwise); the
    coupon must exist (404), be unexpired and under its limit of customers (422), and not be
    applied to the customer already (409)."""

    required_scopes = ("customers:write",)

    @extend_schema(
        operation_id="customers_coupons_apply",
        tags=TAGS,
        request=CustomerCouponApplyInputSerializer,
        responses={
            201: AppliedCouponOutputSerializer,
            400: ERROR_RESPONSE,
            404: OpenApiResponse(
                ERROR_RESPONSE.response, description="Unknown customer or coupon code."
            ),
            409: OpenApiResponse(
                ERROR_RESPONSE.response, description="The coupon is already applied."
            ),
            422: OpenApiResponse(
                ERROR_RESPONSE.response, description="The coupon expired or reached its limit."
            ),
        },
    )
    def post(self, request: Request, external_id: str) -> Response:
        try:
            customer = customer_get(external_id=external_id)
        except NotFoundError as error:
            raise NotFoundError(error.message, fields={"customer": ["No such customer."]}) from None
        serializer = CustomerCouponApplyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        applied = coupon_apply(customer=customer, **serializer.validated_data, actor=request.auth)
        return Response(AppliedCouponOutputSerializer(applied).data, status=201)
