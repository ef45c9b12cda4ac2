"""handler403: the API's error shape under /api/; in the admin, a page in the admin's own look
that says which role the refused page needs, so staff know whom to ask."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from billing_site.core.api.errors import permission_denied_handler as plain_permission_denied
from billing_site.core.roles import roles_allowed

# The last part of an admin URL name ("plans_plan_change") -> the permission it needs.
_ADMIN_VIEW_ACTIONS = {"changelist": "view", "add": "add", "change": "change", "delete": "delete"}


_VERBS = {"view": "see", "add": "add", "change": "change", "delete": "delete"}


def _declared(permission: str) -> tuple[str, str, list[str]] | None:
    """(verb, thing, roles) for a custom admin page declared through `admin_path`."""
    app_label, _, codename = permission.partition(".")
    action, _, model_name = codename.partition("_")
    if action not in _VERBS:
        return None
    for model in admin.site._registry:
        if (model._meta.app_label, model._meta.model_name) == (app_label, model_name):
            thing = str(model._meta.verbose_name_plural)
            return _VERBS[action], thing, roles_allowed(action, app_label, model_name)
    return None


def _needed(request: HttpRequest) -> tuple[str, str, list[str]] | None:
    """(verb, thing, roles) for an admin model URL, or None when it is not one."""
    match = request.resolver_match
    if match is None or match.namespace != "admin" or not match.url_name:
        return None
    declared = getattr(match.func, "required_permission", "")
    if declared:
        return _declared(declared)
    for model in admin.site._registry:
        prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
        if not match.url_name.startswith(prefix):
            continue
        action = _ADMIN_VIEW_ACTIONS.get(match.url_name[len(prefix) :], "change")
        if match.url_name.endswith("_change") and request.method in ("GET", "HEAD"):
            action = "view"  # a change page opens read-only with view rights alone
        verb = _VERBS[action]
        roles = roles_allowed(action, model._meta.app_label, model._meta.model_name)
        return verb, str(model._meta.verbose_name_plural), roles
    return None


def permission_denied_handler(
    request: HttpRequest, exception: Exception | None = None
) -> HttpResponse:
    user = getattr(request, "user", None)
    if not request.path.startswith("/admin/") or not (user and user.is_authenticated):
        return plain_permission_denied(request, exception)
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
