from django.apps import AppConfig


class EntitlementsConfig(AppConfig):
    name = "entitlements"

    def ready(self) -> None:
        from entitlements.counters import counters_mark_stale
        from metering.services import ingest_listener_register

        # Metering cannot import entitlements: events stored by any road mark the counters of
        # their customer and metric stale, and the next read recomputes them.
        ingest_listener_register(counters_mark_stale)
