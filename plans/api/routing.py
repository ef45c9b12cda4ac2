"""One URL, one APIView per operation.

REST paths serve several operations (``GET /customers`` lists, ``POST /customers`` creates).
``routed()`` joins the per-operation views into the class the URL points at: each HTTP method
runs its own view's handler, with that view's ``required_scopes``; the OpenAPI schema still
sees each handler's ``extend_schema``.
"""

from typing import Any

from rest_framework.views import APIView


class _ScopesByMethod:
    def __init__(self, routes: dict[str, type[APIView]]) -> None:
        self.routes = routes

    def __get__(self, view: APIView | None, owner: type) -> tuple[str, ...]:
        request = getattr(view, "request", None)
        method = request.method if request is not None else None
        if method in ("HEAD", "OPTIONS") and "GET" in self.routes:
            method = "GET"  # they read what GET reads, so they need what GET needs
        route = self.routes.get(method) if method is not None else None
        if route is not None:
            return tuple(getattr(route, "required_scopes", ()))
        # Any other method: demand every scope the operations need.
        return tuple(
            sorted({s for r in self.routes.values() for s in getattr(r, "required_scopes", ())})
        )


def routed(name: str, **views: type[APIView]) -> type[APIView]:
    """``routed("CustomersApi", GET=CustomerListApi, POST=CustomerCreateApi)``."""
    routes = {method.upper(): view for method, view in views.items()}
    attrs: dict[str, Any] = {
        "required_scopes": _ScopesByMethod(routes),
        "__doc__": " / ".join(f"{m}: {v.__name__}" for m, v in routes.items()),
        "__module__": __name__,
    }
    for method, view in routes.items():
        attrs[method.lower()] = getattr(view, method.lower())
    return type(name, (APIView,), attrs)
