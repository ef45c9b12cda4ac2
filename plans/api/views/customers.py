"""Customers: create (idempotent on external id), retrieve, update, list, archive, members."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_site.core.api.pagination import page
from billing_site.core.api.serializers import ERROR_RESPONSE
from plans.api.serializers.customers import (
    CustomerArchiveInputSerializer,
    CustomerCreateInputSerializer,
    CustomerListInputSerializer,
    CustomerListOutputSerializer,
    CustomerMembersSetInputSerializer,
    CustomerOutputSerializer,
    CustomerUpdateInputSerializer,
)
from plans.selectors import customer_get, customers_list
from plans.services import (
    customer_archive,
    customer_create,
    customer_members_set,
    customer_update,
)

TAGS = ["customers"]


def _customer(external_id: str) -> Response:
    customer = customer_get(external_id=external_id)
    return Response(CustomerOutputSerializer(customer).data)


class CustomerCreateApi(APIView):
    """Create a customer. An existing external id returns that customer unchanged (200)."""

    required_scopes = ("customers:write",)

    @extend_schema(
        operation_id="customers_create",
        tags=TAGS,
        request=CustomerCreateInputSerializer,
        responses={
            201: CustomerOutputSerializer,
            200: OpenApiResponse(CustomerOutputSerializer, description="Already existed."),
            400: ERROR_RESPONSE,
            409: ERROR_RESPONSE,
        },
    )
    def post(self, request: Request) -> Response:
        serializer = CustomerCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer, created = customer_create(**serializer.validated_data, actor=request.auth)
        return Response(CustomerOutputSerializer(customer).data, status=201 if created else 200)


class CustomerListApi(APIView):
    required_scopes = ("customers:read",)

    @extend_schema(
        operation_id="customers_list",
        tags=TAGS,
        parameters=[CustomerListInputSerializer],
        responses={
            200: CustomerListOutputSerializer,
            400: ERROR_RESPONSE,
        },
    )
    def get(self, request: Request) -> Response:
        serializer = CustomerListInputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        params = serializer.validated_data
        customers = customers_list(search=params["search"], archived=params["archived"])
        body = page(
            customers,
            limit=params["limit"],
            offset=params["offset"],
            render=lambda items: CustomerOutputSerializer(items, many=True).data,
        )
        return Response(body)


class CustomerDetailApi(APIView):
    required_scopes = ("customers:read",)

    @extend_schema(
        operation_id="customers_retrieve",
        tags=TAGS,
        responses={
            200: CustomerOutputSerializer,
            404: ERROR_RESPONSE,
        },
    )
    def get(self, request: Request, external_id: str) -> Response:
        return _customer(external_id)


class CustomerUpdateApi(APIView):
    """Update name, email, currency or metadata (the external id never changes)."""

    required_scopes = ("customers:write",)

    @extend_schema(
        operation_id="customers_update",
        tags=TAGS,
        request=CustomerUpdateInputSerializer,
        responses={
            200: CustomerOutputSerializer,
            400: ERROR_RESPONSE,
            404: ERROR_RESPONSE,
            409: ERROR_RESPONSE,
        },
    )
    def patch(self, request: Request, external_id: str) -> Response:
        customer = customer_get(external_id=external_id)
        serializer = CustomerUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer_update(customer=customer, data=serializer.validated_data, actor=request.auth)
        return _customer(external_id)


class CustomerArchiveApi(APIView):
    required_scopes = ("customers:write",)

    @extend_schema(
        operation_id="customers_archive",
        tags=TAGS,
        request=CustomerArchiveInputSerializer,
        responses={
            200: CustomerOutputSerializer,
            404: ERROR_RESPONSE,
            409: ERROR_RESPONSE,
        },
    )
    def post(self, request: Request, external_id: str) -> Response:
        customer = customer_get(external_id=external_id)
        serializer = CustomerArchiveInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer_archive(customer=customer, actor=request.auth, **serializer.validated_data)
        return _customer(external_id)


class CustomerMembersSetApi(APIView):
    """Replace the customer's members: ids (such as seat users) whose events bill to it."""

    required_scopes = ("customers:write",)

    @extend_schema(
        operation_id="customers_members_set",
        tags=TAGS,
        request=CustomerMembersSetInputSerializer,
        responses={
            200: CustomerOutputSerializer,
            400: ERROR_RESPONSE,
            404: ERROR_RESPONSE,
            409: ERROR_RESPONSE,
        },
    )
    def put(self, request: Request, external_id: str) -> Response:
        customer = customer_get(external_id=external_id)
        serializer = CustomerMembersSetInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer_members_set(
            customer=customer,
            member_ids=serializer.validated_data["member_ids"],
            actor=request.auth,
        )
        return _customer(external_id)
