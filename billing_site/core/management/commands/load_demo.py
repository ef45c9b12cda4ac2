"""Load demo data, idempotently: each app may have a `demo.py` with `load(stdout)`.

Apps are loaded in INSTALLED_APPS order, which follows the layers (metering before plans before
credits ...), so each app's demo can use what the apps below it created.
"""

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = "Create (or complete) the demo data: metrics, plans, customers, events, invoices."

    def handle(self, *args: object, **options: object) -> None:
        for app_config in apps.get_app_configs():
            module_name = f"{app_config.name}.demo"
            if find_spec(module_name) is None:
                continue
            with transaction.atomic():
                import_module(module_name).load(self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
