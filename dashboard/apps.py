from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The admin's landing page: figures read from every app below (invoices, usage counts,
    usage alerts). Nothing imports it."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "dashboard"
    verbose_name = "Dashboard"
