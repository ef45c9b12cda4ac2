"""Sync settings.BEAT_SCHEDULE into django-celery-beat; idempotent (update_or_create by name)."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask


class Command(BaseCommand):
    help = "Create or update the periodic tasks declared in settings.BEAT_SCHEDULE."

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        for name, entry in settings.BEAT_SCHEDULE.items():
            schedule: dict[str, object] = {"crontab": None, "interval": None}
            if "crontab" in entry:
                crontab, _ = CrontabSchedule.objects.get_or_create(
                    timezone="UTC",
                    **{
                        "minute": "*",
                        "hour": "*",
                        "day_of_week": "*",
                        "day_of_month": "*",
                        "month_of_year": "*",
                        **entry["crontab"],
                    },
                )
                schedule["crontab"] = crontab
            else:
                interval, _ = IntervalSchedule.objects.get_or_create(
                    every=entry["every_seconds"], period=IntervalSchedule.SECONDS
                )
                schedule["interval"] = interval
            PeriodicTask.objects.update_or_create(
                name=name,
                defaults={
                    "task": entry["task"],
                    "description": entry.get("description", ""),
                    "enabled": True,
                    **schedule,
                },
            )
        self.stdout.write(f"{len(settings.BEAT_SCHEDULE)} periodic task(s) in place.")
