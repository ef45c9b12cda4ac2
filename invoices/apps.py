from django.apps import AppConfig


class InvoicesConfig(AppConfig):
    name = "invoices"

    def ready(self) -> None:
        # Celery's autodiscovery reads invoices.tasks and the admin's invoices.admin only; the
        # pay-in-advance package registers its own tasks and admin.
        from invoices.advance import admin, tasks  # noqa: F401
