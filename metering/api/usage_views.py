from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_site.core.api.serializers import ApiErrorOutputSerializer
from billing_site.core.exceptions import ApplicationError
from metering.api.usage_serializers import (
    CustomerUsageGetInputSerializer,
    CustomerUsageGetOutputSerializer,
)
from metering.selectors import billable_metric_get, usage_get, usage_summary_for_customer


class CustomerUsageGetApi(APIView):
    """A customer's aggregated usage per metric over a half-open period [from, to)."""

    required_scopes = ("usage:read",)

    @extend_schema(
        operation_id="customer_usage_get",
        summary="Usage of a customer over a period",
        description=(
            "Quantity and event count per metric over [from, to) (at most a year). Every metric "
            "is listed, with zero where the customer has no usage, unless `metric` names one. "
            "Quantities are decimal strings, rounded as each metric says. A customer id with no "
            "events simply has zero usage."
        ),
        parameters=[
            CustomerUsageGetInputSerializer,
            OpenApiParameter("customer_id", str, OpenApiParameter.PATH),
        ],
        responses={
            200: CustomerUsageGetOutputSerializer,
            400: OpenApiResponse(
                ApiErrorOutputSerializer,
                description="A bad parameter; `fields` names it (from, to, metric, ...).",
            ),
            403: OpenApiResponse(ApiErrorOutputSerializer, description="The key lacks usage:read."),
        },
        tags=["usage"],
    )
    def get(self, request: Request, customer_id: str) -> Response:
        serializer = CustomerUsageGetInputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        start, end = data["from"], data["to"]
        subscription_id = data.get("subscription_id")
        if "metric" in data:
            metric = billable_metric_get(code=data["metric"])
            if metric is None:
                raise ApplicationError(
                    f"No metric has the code {data['metric']!r}.",
                    fields={"metric": ["No metric has this code."]},
                )
            usage = [
                (
                    metric,
                    usage_get(
                        metric=metric,
                        customer_id=customer_id,
                        start=start,
                        end=end,
                        subscription_id=subscription_id,
                    ),
                )
            ]
        else:
            usage = usage_summary_for_customer(
                customer_id=customer_id, start=start, end=end, subscription_id=subscription_id
            )
        body = {
            "customer_id": customer_id,
            "from": start,
            "to": end,
            "usage": [
                {
                    "metric": metric.code,
                    "name": metric.name,
                    "aggregation": metric.aggregation,
                    "quantity": result.quantity,
                    "event_count": result.event_count,
                }
                for metric, result in usage
            ],
        }
        return Response(CustomerUsageGetOutputSerializer(body).data)
