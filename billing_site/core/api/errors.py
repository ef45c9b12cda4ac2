"""One error shape for the whole API: {"error": {"code", "message", "fields"}}."""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from billing_site.core.exceptions import ApplicationError

logger = logging.getLogger("billing_site.api")


def error_body(
    code: str, message: str, fields: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}, **extra}}


def _flatten_fields(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {"dotted.path": ["message", ...]}."""
    fields: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = key if key != "non_field_errors" else "__all__"
            if isinstance(key, int):  # DRF reports a list's errors keyed by index
                path = f"{prefix}[{key}]"
            else:
                path = f"{prefix}.{name}" if prefix else str(name)
            fields.update(_flatten_fields(value, path))
    elif isinstance(detail, list) and detail and all(isinstance(d, dict | list) for d in detail):
        for index, value in enumerate(detail):
            if value:
                fields.update(_flatten_fields(value, f"{prefix}[{index}]"))
    elif isinstance(detail, list):
        fields[prefix or "__all__"] = [str(message) for message in detail]
    else:
        fields[prefix or "__all__"] = [str(detail)]
    return fields


def _summary(fields: dict[str, list[str]]) -> str:
    if not fields:
        return "The request is invalid."
    name, messages = next(iter(fields.items()))
    where = "" if name == "__all__" else f"{name}: "
    return f"{where}{messages[0]}"


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    if isinstance(exc, ApplicationError):
        return Response(
            error_body(exc.code, exc.message, exc.fields, **exc.extra), status=exc.status
        )
    if isinstance(exc, RequestDataTooBig):
        return Response(
            error_body("payload_too_large", "The request body is too large."), status=413
        )
    if isinstance(exc, SuspiciousOperation):
        return Response(error_body("bad_request", str(exc) or "Bad request."), status=400)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten_fields(exc.detail)
        return Response(
            error_body("invalid", _summary(fields), fields), status=status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, exceptions.APIException):
        headers = {}
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            headers["Retry-After"] = str(int(exc.wait) + (exc.wait % 1 > 0))
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            headers["WWW-Authenticate"] = "Bearer"
        detail = exc.detail
        code = detail.code if hasattr(detail, "code") else exc.default_code
        return Response(error_body(str(code), str(detail)), status=exc.status_code, headers=headers)

    view = context.get("view")
    logger.exception("Unhandled API error", extra={"view": type(view).__name__ if view else None})
    return Response(
        error_body("server_error", "An unexpected error occurred; it has been logged."),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found_handler(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: the API's error shape under /api/, Django's page elsewhere."""
    if _is_api(request):
        return JsonResponse(error_body("not_found", "No such endpoint."), status=404)
    return defaults.page_not_found(request, exception)


def bad_request_handler(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400 (a bad Host header, a too-big form...): the error shape under /api/."""
    if _is_api(request):
        if isinstance(exception, RequestDataTooBig):
            return JsonResponse(
                error_body("payload_too_large", "The request body is too large."), status=413
            )
        return JsonResponse(error_body("bad_request", "Bad request."), status=400)
    return defaults.bad_request(request, exception)


def permission_denied_handler(
    request: HttpRequest, exception: Exception | None = None
) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body("forbidden", "Forbidden."), status=403)
    return defaults.permission_denied(request, exception)


def server_error_handler(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            error_body("server_error", "An unexpected error occurred; it has been logged."),
            status=500,
        )
    return defaults.server_error(request)
