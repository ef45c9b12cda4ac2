"""Refuses, for every endpoint under /api/, request parts PostgreSQL could never look up.

A NUL character in the path (`/customers/a%00b`) or in a query parameter reaches the database as
a text parameter and fails there (PostgreSQL text cannot hold U+0000); answering 400 here, before
any view runs, covers every endpoint present and future.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from billing_site.core.api.errors import error_body

_NUL = "Must not contain NUL characters."


class ApiInputGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            if "\x00" in request.path:
                return _invalid({"path": [_NUL]}, "path: " + _NUL)
            for name, values in request.GET.lists():
                if "\x00" in name or any("\x00" in value for value in values):
                    field = name.replace("\x00", "\ufffd")
                    return _invalid({field: [_NUL]}, f"{field}: {_NUL}")
        return self.get_response(request)


def _invalid(fields: dict[str, list[str]], message: str) -> HttpResponse:
    return JsonResponse(error_body("invalid", message, fields), status=400)
