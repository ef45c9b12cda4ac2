from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "billing_site.core"
    label = "core"
    verbose_name = "Access and audit"

    def ready(self) -> None:
        from billing_site.core.api import schema  # noqa: F401  (registers the auth extension)
        from billing_site.core.api.strict import text_fields_refuse_numbers
        from billing_site.core.roles import sync_role_permissions

        text_fields_refuse_numbers()

        # Permissions of models added after the roles migration are granted here, the same way
        # django.contrib.auth creates permissions: after every migrate.
        post_migrate.connect(sync_role_permissions, dispatch_uid="core.sync_role_permissions")
