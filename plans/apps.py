from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = "Catalog"

    def ready(self) -> None:
        from metering.services import metric_usage_check_register
        from plans.selectors import metric_use_by_catalog

        # Metering cannot import the catalog; the catalog tells it which metrics it relies on.
        metric_usage_check_register(metric_use_by_catalog)
