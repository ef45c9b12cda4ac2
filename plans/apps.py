from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = "Catalog"

    def ready(self) -> None:
        from metering.services import (
            metric_usage_check_register,
            metric_usage_description_register,
        )
        from plans.selectors.catalog import metric_use_by_catalog, metric_uses_in_catalog

        # Metering cannot import the catalog; the catalog tells it which metrics it relies on.
        metric_usage_check_register(metric_use_by_catalog)
        metric_usage_description_register(metric_uses_in_catalog)
