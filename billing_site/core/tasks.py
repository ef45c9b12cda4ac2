from celery import shared_task
from django.core.management import call_command


@shared_task(name="core.sessions_clear_expired")
def sessions_clear_expired_task() -> None:
    call_command("clearsessions")
