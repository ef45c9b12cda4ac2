"""POST /stripe/webhook: Stripe's deliveries, authenticated by their signature."""

from django.db import transaction
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_site.core.api.serializers import ERROR_RESPONSE
from billing_site.core.exceptions import ApplicationError
from invoices.webhooks import stripe_webhook_receive

_HEADERS = ("Stripe-Signature", "User-Agent", "Content-Type")


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class StripeWebhookApi(APIView):
    """Payment events from Stripe (signature checked against STRIPE_WEBHOOK_SECRET)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    required_scopes: tuple[str, ...] = ()

    @extend_schema(
        operation_id="stripe_webhook",
        tags=["stripe"],
        request={"application/json": dict},
        auth=[],
        responses={
            200: inline_serializer(
                "StripeWebhookOutput",
                {
                    "id": serializers.CharField(),
                    "processed": serializers.BooleanField(),
                    "handled": serializers.BooleanField(),
                },
            ),
            400: ERROR_RESPONSE,
        },
    )
    def post(self, request: Request) -> Response:
        signature = request.headers.get("Stripe-Signature", "")
        if not signature:
            raise ApplicationError(
                "Stripe-Signature header missing.",
                code="bad_signature",
                fields={"Stripe-Signature": ["This header is required."]},
            )
        outcome = stripe_webhook_receive(
            payload=request.body,
            signature=signature,
            headers={name: request.headers.get(name, "") for name in _HEADERS},
        )
        return Response(
            {"id": outcome.event_id, "processed": outcome.processed, "handled": outcome.handled}
        )
