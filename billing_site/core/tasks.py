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


@shared_task(name="core.webhook_deliver", bind=True, max_retries=None)
def webhook_deliver_task(self, delivery_id: int) -> str:
    """Post one delivery; on failure retry with exponential backoff until MAX_ATTEMPTS."""
    from billing_site.core.models import WebhookDelivery
    from billing_site.core.webhooks import backoff_seconds, webhook_delivery_attempt

    delivery = webhook_delivery_attempt(delivery_id=delivery_id)
    if delivery.status == WebhookDelivery.Status.PENDING:
        raise self.retry(countdown=backoff_seconds(delivery.attempts))
    return delivery.status
