"""handler403: the API's error shape under /api/; in the admin, a page in the admin's own look
that says which role the refused page needs, so staff know whom to ask."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.views import defaults

from billing_site.core.api.errors import error_body
from billing_site.core.roles import roles_allowed

# The last part of an admin URL name ("plans_plan_change") -> the permission it needs.
_ADMIN_VIEW_ACTIONS = {"changelist": "view", "add": "add", "change": "change", "delete": "delete"}


def _needed(request: HttpRequest) -> tuple[str, str, list[str]] | None:
    """(verb, thing, roles) for an admin model URL, or None when it is not one."""
    match = request.resolver_match
    if match is None or match.namespace != "admin" or not match.url_name:
        return None
    for model in admin.site._registry:
        prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
        if not match.url_name.startswith(prefix):
            continue
        action = _ADMIN_VIEW_ACTIONS.get(match.url_name[len(prefix) :], "change")
        if match.url_name.endswith("_change") and request.method in ("GET", "HEAD"):
            action = "view"  # a change page opens read-only with view rights alone
        verb = {"view": "see", "add": "add", "change": "change", "delete": "delete"}[action]
        roles = roles_allowed(action, model._meta.app_label, model._meta.model_name)
        return verb, str(model._meta.verbose_name_plural), roles
    return None


def permission_denied_handler(
    request: HttpRequest, exception: Exception | None = None
) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body("permission_denied", "You do not have permission to do this."), status=403
        )
    if not request.path.startswith("/admin/") or not request.user.is_authenticated:
        return defaults.permission_denied(request, exception or PermissionDenied())
    needed = _needed(request)
    context = {
        **admin.site.each_context(request),
        "title": "You do not have access to this page",
        "verb": needed[0] if needed else None,
        "thing": needed[1] if needed else None,
        "roles": needed[2] if needed else [],
        "reason": str(exception) if exception and str(exception) else "",
    }
    response = TemplateResponse(request, "admin/403.html", context, status=403)
    return response.render()
