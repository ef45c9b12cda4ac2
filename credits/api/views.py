from decimal import Decimal

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_site.core.api.serializers import ERROR_RESPONSE
from credits.api.serializers import CreditBalanceOutputSerializer
from credits.selectors import credit_balance_get
from plans.selectors import customer_get


class CreditBalanceApi(APIView):
    required_scopes = ("credits:read",)

    @extend_schema(
        operation_id="credits_balance",
        tags=["credits"],
        parameters=[OpenApiParameter("customer_id", str, OpenApiParameter.PATH)],
        responses={200: CreditBalanceOutputSerializer, 404: ERROR_RESPONSE},
    )
    def get(self, request: Request, customer_id: str) -> Response:
        """The customer's usable credits now, per feature, and the grants in burn order."""
        customer = customer_get(external_id=customer_id)
        balance = credit_balance_get(customer=customer)
        per_feature: dict[str, Decimal] = {}
        for grant in balance.grants:
            per_feature[grant.feature_slug] = (
                per_feature.get(grant.feature_slug, Decimal(0)) + grant.remaining
            )
        return Response(
            CreditBalanceOutputSerializer(
                {
                    "customer_id": customer.external_id,
                    "at": balance.at,
                    "balances": [
                        {"feature": slug, "balance": total} for slug, total in per_feature.items()
                    ],
                    "grants": balance.grants,
                }
            ).data
        )
