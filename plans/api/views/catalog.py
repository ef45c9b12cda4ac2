"""Published plans for pricing tables, and price quotes."""

from decimal import Decimal

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_site.core.api.serializers import ERROR_RESPONSE
from billing_site.core.exceptions import ApplicationError
from plans.api.serializers.catalog import (
    PlanListOutputSerializer,
    PlanOutputSerializer,
    PricingQuoteInputSerializer,
    PricingQuoteOutputSerializer,
)
from plans.pricing import PricingError
from plans.selectors import plan_latest_published_version, plans_published_list, pricing_quote


class PlanListApi(APIView):
    """Every plan with a published version, as its latest published version."""

    required_scopes = ("pricing:read",)

    @extend_schema(
        operation_id="plans_list", tags=["plans"], responses={200: PlanListOutputSerializer}
    )
    def get(self, request: Request) -> Response:
        versions = plans_published_list()
        return Response({"results": PlanOutputSerializer(versions, many=True).data})


class PlanDetailApi(APIView):
    required_scopes = ("pricing:read",)

    @extend_schema(
        operation_id="plans_retrieve",
        tags=["plans"],
        responses={200: PlanOutputSerializer, 404: ERROR_RESPONSE},
    )
    def get(self, request: Request, code: str) -> Response:
        return Response(PlanOutputSerializer(plan_latest_published_version(code)).data)


class PricingQuoteApi(APIView):
    """What ``units`` of a metric cost on a plan (its latest published version by default)."""

    required_scopes = ("pricing:read",)

    @extend_schema(
        operation_id="pricing_quote",
        tags=["plans"],
        request=PricingQuoteInputSerializer,
        responses={200: PricingQuoteOutputSerializer, 400: ERROR_RESPONSE, 404: ERROR_RESPONSE},
    )
    def post(self, request: Request) -> Response:
        serializer = PricingQuoteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            quote = pricing_quote(
                plan_code=data["plan"],
                version_number=data["version"],
                metric_code=data["metric"],
                units=data.get("units", Decimal(0)),
                event_values=data["event_values"],
                event_properties=data["properties"],
                groups=[(g["group"], g["units"]) for g in data["groups"]],
            )
        except PricingError as error:
            raise ApplicationError(error.message, fields={error.field: [error.message]}) from None
        result = quote.result.as_dict()
        return Response(
            {
                "plan": quote.plan_code,
                "version": quote.version_number,
                "metric": quote.metric_code,
                "charge_model": quote.charge_model,
                "currency": quote.currency,
                "units": result["units"],
                "amount": result["amount"],
                "amount_rounded": format(quote.amount_rounded, "f"),
                "breakdown": result["breakdown"],
                "filter_index": quote.filter_index,
                "groups": [group.as_dict() for group in quote.groups],
            }
        )
