"""Entitlements: list, check (a question: always 200 for a customer that exists), consume,
and holds (reserve / commit / release)."""

import uuid

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_site.core.api.errors import error_body
from billing_site.core.api.serializers import ERROR_RESPONSE, ApiErrorOutputSerializer, BoundInput
from billing_site.core.exceptions import NotFoundError
from entitlements.api.serializers import (
    EntitlementCheckInputSerializer,
    EntitlementConsumeInputSerializer,
    EntitlementConsumeOutputSerializer,
    EntitlementListOutputSerializer,
    EntitlementOutputSerializer,
    HoldCommitInputSerializer,
    HoldOutputSerializer,
    HoldReserveInputSerializer,
    PaymentRequiredSerializer,
)
from entitlements.selectors import entitlement_get, entitlements_list
from entitlements.services import (
    ConsumeOutcome,
    entitlement_consume,
    hold_body,
    hold_commit,
    hold_release,
    hold_reserve,
)
from plans.selectors import customer_get

TAGS = ["entitlements"]
PAYMENT_REQUIRED = OpenApiResponse(
    PaymentRequiredSerializer,
    description="Refused under a hard cap: the error shape with the numbers and upgrade hint.",
)
FORBIDDEN = OpenApiResponse(
    ApiErrorOutputSerializer,
    description="No live subscription, feature not on the plan or turned off (code says which).",
)
PATH = [
    OpenApiParameter("customer_id", str, OpenApiParameter.PATH, description="External id."),
    OpenApiParameter("feature", str, OpenApiParameter.PATH, description="The feature's slug."),
]


def _answer(outcome: ConsumeOutcome) -> Response:
    if outcome.status == 402:
        body = dict(outcome.body)
        reason, message = body.pop("reason"), body.pop("message")
        return Response(error_body(reason, message, {}, **body), status=402)
    return Response(outcome.body, status=outcome.status)


class EntitlementListApi(APIView):
    required_scopes = ("entitlements:read",)

    @extend_schema(
        operation_id="entitlements_list",
        tags=TAGS,
        parameters=PATH[:1],
        responses={200: EntitlementListOutputSerializer, 404: ERROR_RESPONSE},
    )
    def get(self, request: Request, customer_id: str) -> Response:
        """Every feature of the customer's live subscriptions, with its effective value."""
        customer = customer_get(external_id=customer_id)
        decisions = entitlements_list(customer=customer)
        return Response(
            EntitlementListOutputSerializer(
                {"customer_id": customer.external_id, "entitlements": decisions}
            ).data
        )


# The check and consume are the hot path: a DRF serializer deep-copies its declared fields each
# time it is made (about a millisecond for the check's answer), so one instance of each, bound
# once, reads every input and writes every answer. ``run_validation`` and ``to_representation``
# only read the bound fields, so sharing them across threads is safe.
CHECK_INPUT = BoundInput(EntitlementCheckInputSerializer)
CHECK_OUTPUT = EntitlementOutputSerializer()
CONSUME_INPUT = BoundInput(EntitlementConsumeInputSerializer)


class EntitlementCheckApi(APIView):
    required_scopes = ("entitlements:read",)

    @extend_schema(
        operation_id="entitlements_check",
        tags=TAGS,
        parameters=[*PATH, EntitlementCheckInputSerializer],
        responses={200: EntitlementOutputSerializer, 400: ERROR_RESPONSE, 404: ERROR_RESPONSE},
    )
    def get(self, request: Request, customer_id: str, feature: str) -> Response:
        """May the customer use ``quantity`` more of the feature now? A question: always 200 for
        a customer that exists, with ``allowed`` and ``reason``."""
        quantity = CHECK_INPUT(request.query_params)["quantity"]
        # One statement finds the customer with its plan (a 404 when unknown): the hot path.
        decision = entitlement_get(external_id=customer_id, feature=feature, quantity=quantity)
        return Response(CHECK_OUTPUT.to_representation(decision))


class EntitlementConsumeApi(APIView):
    required_scopes = ("entitlements:write",)

    @extend_schema(
        operation_id="entitlements_consume",
        tags=TAGS,
        parameters=PATH,
        request=EntitlementConsumeInputSerializer,
        responses={
            200: EntitlementConsumeOutputSerializer,
            400: ERROR_RESPONSE,
            402: PAYMENT_REQUIRED,
            403: FORBIDDEN,
            404: ERROR_RESPONSE,
            409: ERROR_RESPONSE,
        },
    )
    def post(self, request: Request, customer_id: str, feature: str) -> Response:
        """Check and record usage atomically; idempotent on ``transaction_id`` (a retry gets the
        first answer)."""
        # The consume's first statement finds the customer (a 404 when unknown).
        outcome = entitlement_consume(
            external_id=customer_id,
            feature=feature,
            actor=request.auth,
            **CONSUME_INPUT(request.data),
        )
        return _answer(outcome)


class HoldReserveApi(APIView):
    required_scopes = ("entitlements:write",)

    @extend_schema(
        operation_id="entitlements_reserve",
        tags=TAGS,
        parameters=PATH,
        request=HoldReserveInputSerializer,
        responses={
            201: HoldOutputSerializer,
            400: ERROR_RESPONSE,
            402: PAYMENT_REQUIRED,
            403: FORBIDDEN,
            404: ERROR_RESPONSE,
        },
    )
    def post(self, request: Request, customer_id: str, feature: str) -> Response:
        """Set units aside for work whose cost is known at its end; they count at once."""
        serializer = HoldReserveInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = customer_get(external_id=customer_id)
        outcome = hold_reserve(customer=customer, feature=feature, **serializer.validated_data)
        return _answer(ConsumeOutcome(outcome.status, outcome.body))


HOLD_PATH = [*PATH, OpenApiParameter("hold_id", str, OpenApiParameter.PATH)]


class HoldCommitApi(APIView):
    required_scopes = ("entitlements:write",)

    @extend_schema(
        operation_id="entitlements_hold_commit",
        tags=TAGS,
        parameters=HOLD_PATH,
        request=HoldCommitInputSerializer,
        responses={
            200: EntitlementConsumeOutputSerializer,
            400: ERROR_RESPONSE,
            403: FORBIDDEN,
            404: ERROR_RESPONSE,
            409: ERROR_RESPONSE,
        },
    )
    def post(self, request: Request, customer_id: str, feature: str, hold_id: str) -> Response:
        """Record the actual usage (at most the held quantity) and free the rest; idempotent."""
        serializer = HoldCommitInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = customer_get(external_id=customer_id)
        outcome = hold_commit(
            customer=customer,
            feature=feature,
            hold_id=_uuid(hold_id),
            quantity=serializer.validated_data["quantity"],
            actor=request.auth,
        )
        return _answer(outcome)


class HoldReleaseApi(APIView):
    required_scopes = ("entitlements:write",)

    @extend_schema(
        operation_id="entitlements_hold_release",
        tags=TAGS,
        parameters=HOLD_PATH,
        request=None,
        responses={200: HoldOutputSerializer, 404: ERROR_RESPONSE, 409: ERROR_RESPONSE},
    )
    def post(self, request: Request, customer_id: str, feature: str, hold_id: str) -> Response:
        """Free the whole hold."""
        customer = customer_get(external_id=customer_id)
        hold = hold_release(customer=customer, feature=feature, hold_id=_uuid(hold_id))
        return Response(hold_body(hold, None, hold.quantity))


def _uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise NotFoundError(f"No hold {value!r}.", fields={"hold_id": ["Not a hold id."]}) from None
