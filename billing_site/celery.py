"""The Celery app. Tasks live in each app's tasks.py; the beat schedule is synced into
django-celery-beat by `manage.py setup_periodic_tasks`."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_site.settings.local")

app = Celery("billing_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
