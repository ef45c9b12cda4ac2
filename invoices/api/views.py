"""Invoices API: list and retrieve invoices; the running period of a customer or subscription."""

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_site.core.api.pagination import page
from billing_site.core.api.serializers import ERROR_RESPONSE
from billing_site.core.exceptions import ConflictError, NotFoundError
from invoices.api.serializers import (
    CurrentUsageOutputSerializer,
    InvoiceListInputSerializer,
    InvoiceListOutputSerializer,
    InvoiceOutputSerializer,
    RunningPeriodOutputSerializer,
)
from invoices.selectors import (
    invoice_get,
    invoices_list,
    running_period_get,
    running_periods_for_customer,
)
from plans.models import Customer
from plans.selectors import customer_get, subscription_get

TAGS = ["invoices"]


def _customer(external_id: str) -> Customer:
    try:
        return customer_get(external_id=external_id)
    except NotFoundError as error:
        raise NotFoundError(error.message, fields={"customer": ["No such customer."]}) from None


class InvoiceListApi(APIView):
    """Invoices, newest period first; filter by customer and status."""

    required_scopes = ("invoices:read",)

    @extend_schema(
        operation_id="invoices_list",
        tags=TAGS,
        parameters=[InvoiceListInputSerializer],
        responses={200: InvoiceListOutputSerializer, 400: ERROR_RESPONSE, 404: ERROR_RESPONSE},
    )
    def get(self, request: Request) -> Response:
        serializer = InvoiceListInputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer = _customer(data["customer"]) if data["customer"] else None
        invoices = invoices_list(customer=customer, status=data["status"] or None)
        return Response(
            page(
                invoices,
                limit=data["limit"],
                offset=data["offset"],
                render=lambda items: InvoiceOutputSerializer(items, many=True).data,
            )
        )


class InvoiceDetailApi(APIView):
    """One invoice with its lines, each with its arithmetic."""

    required_scopes = ("invoices:read",)

    @extend_schema(
        operation_id="invoices_retrieve",
        tags=TAGS,
        responses={200: InvoiceOutputSerializer, 404: ERROR_RESPONSE},
    )
    def get(self, request: Request, invoice_id: int) -> Response:
        return Response(InvoiceOutputSerializer(invoice_get(invoice_id=invoice_id)).data)


class CustomerCurrentUsageApi(APIView):
    """The draft of the running period of each live subscription of the customer: quantities,
    amounts and breakdowns of the usage so far."""

    required_scopes = ("invoices:read",)

    @extend_schema(
        operation_id="customers_current_usage",
        tags=TAGS,
        responses={200: CurrentUsageOutputSerializer, 404: ERROR_RESPONSE},
    )
    def get(self, request: Request, external_id: str) -> Response:
        customer = _customer(external_id)
        running = running_periods_for_customer(customer=customer)
        body = {"customer": customer.external_id, "subscriptions": running}
        return Response(CurrentUsageOutputSerializer(body).data)


class SubscriptionUpcomingInvoiceApi(APIView):
    """What the subscription's running period will be invoiced if no more usage arrives."""

    required_scopes = ("invoices:read",)

    @extend_schema(
        operation_id="subscriptions_upcoming_invoice",
        tags=TAGS,
        responses={200: RunningPeriodOutputSerializer, 404: ERROR_RESPONSE, 409: ERROR_RESPONSE},
    )
    def get(self, request: Request, external_id: str) -> Response:
        subscription = subscription_get(external_id=external_id)
        if not subscription.is_live:
            raise ConflictError(
                f"Subscription {external_id!r} is {subscription.status}; it has no running period.",
                code="subscription_not_live",
            )
        return Response(
            RunningPeriodOutputSerializer(running_period_get(subscription=subscription)).data
        )
