"""Create an API key and print it (the only time the full key is shown).

`manage.py create_api_key --name ci-fuzz --all-scopes` is what `.ci/fuzz-api` uses; staff
normally create keys in the admin.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing_site.core.scopes import SCOPES
from billing_site.core.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key and print the full key once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--scope", action="append", default=[], dest="scopes")
        parser.add_argument("--all-scopes", action="store_true")
        parser.add_argument("--rate", default="", help="e.g. 600/minute; blank: the default")

    def handle(
        self, *args: object, name: str, scopes: list[str], all_scopes: bool, rate: str, **_: object
    ) -> None:
        try:
            _, raw_key = api_key_create(
                name=name, scopes=list(SCOPES) if all_scopes else scopes, throttle_rate=rate
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(raw_key)
