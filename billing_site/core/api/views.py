from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class ApiKeyWhoAmIApi(APIView):
    """The calling key's name and scopes: lets a service verify its configuration."""

    required_scopes: tuple[str, ...] = ()

    @extend_schema(
        responses=inline_serializer(
            "ApiKeyWhoAmIOutput",
            fields={
                "name": serializers.CharField(),
                "prefix": serializers.CharField(),
                "scopes": serializers.ListField(child=serializers.CharField()),
            },
        )
    )
    def get(self, request: Request) -> Response:
        api_key = request.auth
        return Response({"name": api_key.name, "prefix": api_key.prefix, "scopes": api_key.scopes})
