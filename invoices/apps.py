from django.apps import AppConfig


class InvoicesConfig(AppConfig):
    name = "invoices"

    def ready(self) -> None:
        # Celery's autodiscovery reads invoices.tasks only; the advance package has its own.
        from invoices.advance import tasks  # noqa: F401
