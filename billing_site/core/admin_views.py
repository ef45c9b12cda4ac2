"""Custom admin pages (actions on an object's page, previews) declare the permission they need
here, in one place, instead of each view remembering to check it.

`admin_path(model_admin, route, view, name=, permission=)` wraps the view in the admin site's
`admin_view` (login, staff, CSRF, no caching) and answers 403 unless the user holds
`permission` ("app_label.codename"). The view may still check the object itself (a published
version is not editable, say). A test lists every custom admin URL and fails on one that was
not declared this way.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path


def admin_path(
    model_admin: admin.ModelAdmin,
    route: str,
    view: Callable[..., HttpResponse],
    *,
    name: str,
    permission: str,
) -> URLPattern:
    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_perm(permission):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    guarded.required_permission = permission  # type: ignore[attr-defined]
    return path(route, model_admin.admin_site.admin_view(guarded), name=name)
