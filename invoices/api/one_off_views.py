"""One-off invoices through the API: add-ons billed to a customer outside a subscription."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_site.core.api.serializers import ERROR_RESPONSE
from billing_site.core.exceptions import NotFoundError
from invoices.api.one_off_serializers import OneOffInvoiceCreateInputSerializer
from invoices.api.serializers import InvoiceOutputSerializer
from invoices.selectors import invoice_get
from invoices.selectors.add_ons import add_ons_by_code
from invoices.services.one_off import OneOffItem, one_off_invoice_create
from plans.models import Customer


class OneOffInvoiceCreateApi(APIView):
    """Create a one-off invoice from add-ons. The customer and each add-on must exist (404
    naming the field) and the add-ons share one currency (400). Idempotent on
    ``idempotency_key``: a retry with the same key and body returns the first invoice with 200;
    the same key with another body is a 409."""

    required_scopes = ("invoices:write",)

    @extend_schema(
        operation_id="invoices_one_off_create",
        tags=["invoices"],
        request=OneOffInvoiceCreateInputSerializer,
        responses={
            201: InvoiceOutputSerializer,
            200: OpenApiResponse(
                InvoiceOutputSerializer, description="Replayed: the key's existing invoice."
            ),
            400: ERROR_RESPONSE,
            404: ERROR_RESPONSE,
            409: ERROR_RESPONSE,
        },
    )
    def post(self, request: Request) -> Response:
        serializer = OneOffInvoiceCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer = Customer.objects.filter(external_id=data["customer"]).first()
        if customer is None:
            raise NotFoundError(
                f"No customer with external id {data['customer']!r}.",
                fields={"customer": ["No such customer."]},
            )
        add_ons = add_ons_by_code(item["add_on"] for item in data["items"])
        missing = {
            f"items[{index}].add_on": ["No such add-on."]
            for index, item in enumerate(data["items"])
            if item["add_on"] not in add_ons
        }
        if missing:
            raise NotFoundError("No such add-on.", fields=missing)
        invoice, created = one_off_invoice_create(
            customer=customer,
            items=[
                OneOffItem(
                    add_on=add_ons[item["add_on"]],
                    quantity=item["quantity"],
                    unit_price=item["unit_price"],
                    description=item["description"],
                )
                for item in data["items"]
            ],
            idempotency_key=data["idempotency_key"],
            finalize=data["finalize"],
            actor=request.auth,
        )
        body = InvoiceOutputSerializer(invoice_get(invoice_id=invoice.pk)).data
        return Response(body, status=201 if created else 200)
