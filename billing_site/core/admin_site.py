"""The admin site: navigation by task (what finance and ops staff come to do), not by app.

Every registered model lands in exactly one section: first by the explicit lists below, then by
its app's default section, and anything else (Django's own models, celery-beat's schedules) in
"Internals", which only superusers see. App index pages (/admin/<app>/) keep Django's grouping.
"""

from typing import Any, NamedTuple

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest


class Section(NamedTuple):
    title: str
    slug: str
    models: tuple[str, ...]  # "app_label.modelname", in the order they are listed


SECTIONS: tuple[Section, ...] = (
    Section("Customers", "customers", ("plans.customer", "plans.subscription")),
    Section(
        "Catalog",
        "catalog",
        (
            "plans.plan",
            "plans.planversion",
            "plans.charge",
            "plans.feature",
            "metering.billablemetric",
            "credits.creditdefinition",
        ),
    ),
    Section(
        "Usage",
        "usage",
        ("metering.event", "metering.ingestrejection", "metering.unknowncustomer"),
    ),
    Section(
        "Billing",
        "billing",
        (
            "invoices.invoice",
            "invoices.billingrun",
            "credits.creditgrant",
            "invoices.coupon",
            "invoices.taxrate",
            "invoices.addon",
        ),
    ),
    Section(
        "Developers",
        "developers",
        ("core.apikey", "core.apirequestlog", "core.webhookendpoint", "core.webhookdelivery"),
    ),
    Section("Settings", "settings", ("auth.user", "core.auditlogentry")),
)
INTERNALS = Section("Internals", "internals", ("metering.customeralias", "auth.group"))

# Where a model not named above goes, by its app.
APP_DEFAULT_SECTION = {
    "plans": "catalog",
    "metering": "usage",
    "entitlements": "usage",
    "credits": "billing",
    "invoices": "billing",
    "core": "developers",
}


def section_for(label: str) -> str:
    """The slug of the section a model ("app_label.modelname") is listed under."""
    for section in SECTIONS:
        if label in section.models:
            return section.slug
    if label in INTERNALS.models:
        return INTERNALS.slug
    return APP_DEFAULT_SECTION.get(label.split(".", 1)[0], INTERNALS.slug)


def _position(section: Section, label: str) -> int:
    return section.models.index(label) if label in section.models else len(section.models)


class BillingAdminSite(admin.AdminSite):
    site_header = "Billing — operations"
    site_title = "Billing admin"
    index_title = "Operations home"
    site_url = "/api/docs/"

    def get_app_list(
        self, request: HttpRequest, app_label: str | None = None
    ) -> list[dict[str, Any]]:
        if app_label:
            return super().get_app_list(request, app_label)
        by_slug: dict[str, list[dict[str, Any]]] = {}
        for app in self._build_app_dict(request).values():
            for model in app["models"]:
                label = model["model"]._meta.label_lower
                by_slug.setdefault(section_for(label), []).append(model)

        sections = list(SECTIONS)
        if request.user.is_superuser:
            sections.append(INTERNALS)
        app_list = []
        for section in sections:
            models = by_slug.get(section.slug)
            if not models:
                continue
            models.sort(key=lambda m: (_position(section, m["model"]._meta.label_lower), m["name"]))
            app_list.append(
                {
                    "name": section.title,
                    "app_label": section.slug,
                    "app_url": models[0]["admin_url"] or "",
                    "has_module_perms": True,
                    "models": models,
                }
            )
        return app_list


class BillingAdminConfig(AdminConfig):
    default_site = "billing_site.core.admin_site.BillingAdminSite"
