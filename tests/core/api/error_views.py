"""Views that fail in each way the API can fail, mounted only by the error-shape tests."""

from django.urls import include, path
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_site.core.exceptions import ApplicationError


class LineInputSerializer(serializers.Serializer):
    quantity = serializers.DecimalField(max_digits=20, decimal_places=4, min_value=0)


class OrderInputSerializer(serializers.Serializer):
    customer_id = serializers.CharField()
    lines = LineInputSerializer(many=True)


class ValidatingApi(APIView):
    required_scopes = ()

    def post(self, request):
        serializer = OrderInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)


class ExplodingApi(APIView):
    required_scopes = ()

    def get(self, request):
        raise RuntimeError("database password is hunter2")


class RefusingApi(APIView):
    required_scopes = ()

    def get(self, request):
        raise ApplicationError(
            "Not enough credits.",
            code="insufficient_balance",
            status=402,
            fields={"units": ["Asked 10, 4 remain."]},
            extra={"remaining": "4"},
        )


urlpatterns = [
    path(
        "api/v1/",
        include(
            [
                path("validate", ValidatingApi.as_view()),
                path("explode", ExplodingApi.as_view()),
                path("refuse", RefusingApi.as_view()),
            ]
        ),
    ),
    path("", include("billing_site.urls")),
]

handler404 = "billing_site.core.api.errors.not_found_handler"
