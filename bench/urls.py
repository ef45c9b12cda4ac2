"""The project's URLs plus the benchmarks' framework baseline: a no-op DRF endpoint behind the
same API-key authentication, permission and throttling as every API view, under /api/v1/ so that
the API request log middleware records it like any API request."""

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_site.urls import urlpatterns as project_urlpatterns


class NoopApi(APIView):
    required_scopes = ("entitlements:read",)

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


urlpatterns = [path("api/v1/bench/noop", NoopApi.as_view()), *project_urlpatterns]
