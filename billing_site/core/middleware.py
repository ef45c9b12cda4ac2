from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class AdminSecurityHeadersMiddleware:
    """Content-Security-Policy on every admin page (settings.ADMIN_CONTENT_SECURITY_POLICY)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith("/admin/"):
            response.setdefault("Content-Security-Policy", settings.ADMIN_CONTENT_SECURITY_POLICY)
        return response
