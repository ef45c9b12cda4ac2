"""manage.py import_lago_plan FILE [--dry-run]: a Lago plan (API JSON) as a new draft version."""

import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing_site.core.exceptions import ApplicationError
from plans.services import lago_plan_import


class Command(BaseCommand):
    help = (
        "Import a plan as Lago's API returns it into a new DRAFT version (creating the plan if "
        "missing). Charges that cannot be mapped are reported and skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help='JSON file: {"plan": {...}} from Lago.')
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and report; keep nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            payload = json.loads(path.read_text())
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
        except json.JSONDecodeError as error:
            raise CommandError(f"{path} is not JSON: {error}.") from None
        try:
            report = lago_plan_import(payload=payload, dry_run=options["dry_run"])
        except ApplicationError as error:
            raise CommandError(error.message) from None
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        for line in report.lines:
            style = self.style.WARNING if line.startswith("SKIPPED") else (lambda text: text)
            self.stdout.write(style(line))
        verdict = "Dry run: nothing was saved." if report.dry_run else "Saved as a draft."
        self.stdout.write(
            self.style.SUCCESS(
                f"{report.plan_code} v{report.version_number}: {len(report.imported)} charge(s) "
                f"imported, {len(report.skipped)} item(s) skipped. {verdict}"
            )
        )
