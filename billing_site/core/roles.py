"""Staff roles. Groups are created by migration core.0002; their model permissions are synced
after every migrate from ROLE_GRANTS, so models added later are covered without a new migration.

finance: edits the catalog, metrics, credits and invoices; views everything else.
ops:     views everything; manages customers, subscriptions, API keys and webhook endpoints
         (and resends webhook deliveries).
"""

from typing import Any

PROJECT_APPS = ("core", "metering", "plans", "credits", "entitlements", "invoices")

# app_label -> model names (lowercase) or "*" for every model of the app, per role.
ROLE_GRANTS: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    "finance": {
        "add": {
            "plans": ("*",),
            "invoices": ("*",),
            "credits": ("*",),
            "metering": ("billablemetric",),
        },
        "change": {
            "plans": ("*",),
            "invoices": ("*",),
            "credits": ("*",),
            "metering": ("billablemetric",),
        },
        "delete": {"plans": ("charge", "planfeature", "planversion", "subscriptionoverride")},
    },
    "ops": {
        "add": {"plans": ("customer", "subscription"), "core": ("apikey", "webhookendpoint")},
        "change": {
            "plans": ("customer", "subscription"),
            "core": ("apikey", "webhookendpoint", "webhookdelivery"),
        },
    },
}
ROLES = tuple(ROLE_GRANTS)


def _granted(role: str, action: str, app_label: str, model: str) -> bool:
    models = ROLE_GRANTS[role].get(action, {}).get(app_label, ())
    return "*" in models or model in models


def sync_role_permissions(sender: Any = None, apps: Any = None, **kwargs: Any) -> None:
    """Give each role its permissions; idempotent. Works with live or historical models."""
    if apps is None:
        from django.apps import apps as live_apps

        apps = live_apps
    try:
        group_model = apps.get_model("auth", "Group")
        permission_model = apps.get_model("auth", "Permission")
    except LookupError:
        return
    using = kwargs.get("using", "default")
    permissions = (
        permission_model.objects.using(using)
        .filter(content_type__app_label__in=PROJECT_APPS)
        .select_related("content_type")
    )
    for role in ROLES:
        group, _ = group_model.objects.using(using).get_or_create(name=role)
        wanted = []
        for permission in permissions:
            action = permission.codename.split("_", 1)[0]
            model = permission.content_type.model
            app_label = permission.content_type.app_label
            if action == "view" or _granted(role, action, app_label, model):
                wanted.append(permission)
        group.permissions.add(*wanted)


def roles_allowed(action: str, app_label: str, model: str) -> list[str]:
    """The roles that may `action` ("add", "change", "delete", "view") a model; superusers aside."""
    if action == "view":
        return list(ROLES) if app_label in PROJECT_APPS else []
    return [role for role in ROLES if _granted(role, action, app_label, model)]
