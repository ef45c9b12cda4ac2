from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework import exceptions, permissions
from rest_framework.request import Request

from billing_site.core.models import ApiKey

if TYPE_CHECKING:
    from rest_framework.views import APIView


class HasRequiredScopes(permissions.BasePermission):
    """Every view names `required_scopes`; the key must hold all of them."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            raise exceptions.NotAuthenticated(
                "Send an API key as 'Authorization: Bearer <key>'.", code="unauthenticated"
            )
        required = getattr(view, "required_scopes", None)
        if required is None:
            raise exceptions.PermissionDenied("This endpoint names no scope.", code="forbidden")
        missing = [scope for scope in required if scope not in api_key.scopes]
        if missing:
            raise exceptions.PermissionDenied(
                f"This API key lacks the scope {', '.join(missing)}.", code="missing_scope"
            )
        return True
