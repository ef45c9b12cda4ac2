"""The API's error shape, for the OpenAPI schema (errors.py produces it)."""

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ApiErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ApiErrorOutputSerializer(serializers.Serializer):
    error = ApiErrorDetailSerializer()


ERROR_RESPONSE = OpenApiResponse(ApiErrorOutputSerializer, description="The error shape.")
