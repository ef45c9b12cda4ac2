"""Subscriptions: create, retrieve, list for a customer, cancel, change plan."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_site.core.api.serializers import ERROR_RESPONSE
from billing_site.core.exceptions import NotFoundError
from plans.api.serializers.subscriptions import (
    SubscriptionCancelInputSerializer,
    SubscriptionChangePlanInputSerializer,
    SubscriptionCreateInputSerializer,
    SubscriptionListInputSerializer,
    SubscriptionListOutputSerializer,
    SubscriptionOutputSerializer,
)
from plans.models import Customer
from plans.selectors import customer_get, plan_get, subscription_get, subscriptions_for_customer
from plans.services import subscription_cancel, subscription_change_plan, subscription_create

TAGS = ["subscriptions"]


def _customer(external_id: str) -> Customer:
    try:
        return customer_get(external_id=external_id)
    except NotFoundError as error:
        raise NotFoundError(error.message, fields={"customer": ["No such customer."]}) from None


def _subscription(external_id: str) -> Response:
    return Response(SubscriptionOutputSerializer(subscription_get(external_id=external_id)).data)


class SubscriptionCreateApi(APIView):
    """Subscribe a customer to a plan. The same external id again returns it unchanged (200)."""

    required_scopes = ("subscriptions:write",)

    @extend_schema(
        operation_id="subscriptions_create",
        tags=TAGS,
        request=SubscriptionCreateInputSerializer,
        responses={
            201: SubscriptionOutputSerializer,
            200: OpenApiResponse(SubscriptionOutputSerializer, description="Already existed."),
            400: ERROR_RESPONSE,
            404: ERROR_RESPONSE,
            409: ERROR_RESPONSE,
        },
    )
    def post(self, request: Request) -> Response:
        serializer = SubscriptionCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer = _customer(data["customer"])
        plan = plan_get(code=data["plan"])
        subscription, created = subscription_create(
            customer=customer,
            plan=plan,
            version_number=data["version"],
            external_id=data["external_id"] or None,
            started_at=data["started_at"],
            billing_time=data["billing_time"],
            trial_days=data["trial_days"],
            actor=request.auth,
        )
        body = SubscriptionOutputSerializer(subscription_get(external_id=subscription.external_id))
        return Response(body.data, status=201 if created else 200)


class SubscriptionListApi(APIView):
    """A customer's subscriptions, newest first."""

    required_scopes = ("subscriptions:read",)

    @extend_schema(
        operation_id="subscriptions_list",
        tags=TAGS,
        parameters=[SubscriptionListInputSerializer],
        responses={
            200: SubscriptionListOutputSerializer,
            400: ERROR_RESPONSE,
            404: ERROR_RESPONSE,
        },
    )
    def get(self, request: Request) -> Response:
        serializer = SubscriptionListInputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        customer = _customer(serializer.validated_data["customer"])
        subscriptions = subscriptions_for_customer(
            customer=customer, status=serializer.validated_data["status"] or None
        )
        return Response({"results": SubscriptionOutputSerializer(subscriptions, many=True).data})


class SubscriptionDetailApi(APIView):
    required_scopes = ("subscriptions:read",)

    @extend_schema(
        operation_id="subscriptions_retrieve",
        tags=TAGS,
        responses={
            200: SubscriptionOutputSerializer,
            404: ERROR_RESPONSE,
        },
    )
    def get(self, request: Request, external_id: str) -> Response:
        return _subscription(external_id)


class SubscriptionCancelApi(APIView):
    """Cancel at the end of the current period (default) or immediately."""

    required_scopes = ("subscriptions:write",)

    @extend_schema(
        operation_id="subscriptions_cancel",
        tags=TAGS,
        request=SubscriptionCancelInputSerializer,
        responses={
            200: SubscriptionOutputSerializer,
            404: ERROR_RESPONSE,
            409: ERROR_RESPONSE,
        },
    )
    def post(self, request: Request, external_id: str) -> Response:
        subscription = subscription_get(external_id=external_id)
        serializer = SubscriptionCancelInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription_cancel(
            subscription=subscription, actor=request.auth, **serializer.validated_data
        )
        return _subscription(external_id)


class SubscriptionChangePlanApi(APIView):
    """Move to another plan or version: now, at period end, or at an effective time."""

    required_scopes = ("subscriptions:write",)

    @extend_schema(
        operation_id="subscriptions_change_plan",
        tags=TAGS,
        request=SubscriptionChangePlanInputSerializer,
        responses={
            200: SubscriptionOutputSerializer,
            400: ERROR_RESPONSE,
            404: ERROR_RESPONSE,
            409: ERROR_RESPONSE,
        },
    )
    def post(self, request: Request, external_id: str) -> Response:
        subscription = subscription_get(external_id=external_id)
        serializer = SubscriptionChangePlanInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        subscription_change_plan(
            subscription=subscription,
            plan=plan_get(code=data["plan"]),
            version_number=data["version"],
            timing=data["timing"],
            effective_at=data["effective_at"],
            reason=data["reason"],
            actor=request.auth,
        )
        return _subscription(external_id)
