from celery import shared_task
from django.core.management import call_command


@shared_task(name="core.sessions_clear_expired")
def sessions_clear_expired_task() -> None:
    call_command("clearsessions")


@shared_task(name="core.api_request_log_prune")
def api_request_log_prune_task() -> int:
    from django.conf import settings

    from billing_site.core.services import api_request_log_prune

    return api_request_log_prune(retention_days=settings.API_LOG_RETENTION_DAYS)
