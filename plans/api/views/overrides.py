"""A subscription's overrides: list, create, end."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_site.core.api.serializers import ERROR_RESPONSE
from billing_site.core.exceptions import ApplicationError
from plans.api.serializers.subscriptions import (
    SubscriptionOverrideCreateInputSerializer,
    SubscriptionOverrideEndInputSerializer,
    SubscriptionOverrideListOutputSerializer,
    SubscriptionOverrideOutputSerializer,
)
from plans.models import Charge, Feature, Subscription
from plans.selectors import (
    subscription_get,
    subscription_override_get,
    subscription_overrides_list,
)
from plans.services import subscription_override_create, subscription_override_end

TAGS = ["subscriptions"]


def _targets(
    subscription: Subscription, data: dict[str, Any]
) -> tuple[Charge | None, Feature | None]:
    charge: Charge | None = None
    feature: Feature | None = None
    if data["metric"]:
        # The current version's charge, else the scheduled version's.
        charges = Charge.objects.select_related("metric").filter(metric__code=data["metric"])
        charge = charges.filter(version_id=subscription.version_id).first()
        if charge is None and subscription.scheduled_version_id:
            charge = charges.filter(version_id=subscription.scheduled_version_id).first()
        if charge is None:
            raise ApplicationError(
                f"The subscription's plan has no charge for metric {data['metric']!r}.",
                fields={"metric": ["The plan does not charge this metric."]},
            )
    if data["feature"]:
        feature = Feature.objects.filter(slug=data["feature"]).first()
        if feature is None:
            raise ApplicationError(
                f"No feature {data['feature']!r}.", fields={"feature": ["No such feature."]}
            )
    return charge, feature


class SubscriptionOverrideListApi(APIView):
    required_scopes = ("subscriptions:read",)

    @extend_schema(
        operation_id="subscription_overrides_list",
        tags=TAGS,
        responses={
            200: SubscriptionOverrideListOutputSerializer,
            404: ERROR_RESPONSE,
        },
    )
    def get(self, request: Request, external_id: str) -> Response:
        subscription = subscription_get(external_id=external_id)
        overrides = subscription_overrides_list(subscription=subscription)
        return Response(
            {"results": SubscriptionOverrideOutputSerializer(overrides, many=True).data}
        )


class SubscriptionOverrideCreateApi(APIView):
    """Override the base fee, a charge (named by its metric), a feature or a credit allowance
    for this subscription, optionally within [valid_from, valid_until)."""

    required_scopes = ("subscriptions:write",)

    @extend_schema(
        operation_id="subscription_overrides_create",
        tags=TAGS,
        request=SubscriptionOverrideCreateInputSerializer,
        responses={
            201: SubscriptionOverrideOutputSerializer,
            400: ERROR_RESPONSE,
            404: ERROR_RESPONSE,
            409: ERROR_RESPONSE,
        },
    )
    def post(self, request: Request, external_id: str) -> Response:
        subscription = subscription_get(external_id=external_id)
        serializer = SubscriptionOverrideCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        charge, feature = _targets(subscription, data)
        override = subscription_override_create(
            subscription=subscription,
            kind=data["kind"],
            value=data["value"],
            charge=charge,
            feature=feature,
            valid_from=data["valid_from"],
            valid_until=data["valid_until"],
            reason=data["reason"],
            actor=request.auth,
        )
        override = subscription_override_get(subscription=subscription, override_id=override.pk)
        return Response(SubscriptionOverrideOutputSerializer(override).data, status=201)


class SubscriptionOverrideEndApi(APIView):
    """End an override now (or at ``at``). One that had not started yet is withdrawn."""

    required_scopes = ("subscriptions:write",)

    @extend_schema(
        operation_id="subscription_overrides_end",
        tags=TAGS,
        request=SubscriptionOverrideEndInputSerializer,
        responses={
            200: SubscriptionOverrideOutputSerializer,
            404: ERROR_RESPONSE,
        },
    )
    def post(self, request: Request, external_id: str, override_id: int) -> Response:
        subscription = subscription_get(external_id=external_id)
        override = subscription_override_get(subscription=subscription, override_id=override_id)
        serializer = SubscriptionOverrideEndInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ended = subscription_override_end(
            override=override, actor=request.auth, **serializer.validated_data
        )
        if ended is None:  # withdrawn: answer with the override as it was
            override.pk = None
            return Response(SubscriptionOverrideOutputSerializer(override).data)
        return Response(SubscriptionOverrideOutputSerializer(ended).data)
