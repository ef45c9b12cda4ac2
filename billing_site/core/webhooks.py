"""Outgoing webhooks: signed JSON posts of domain events to the endpoints staff configure.

Signature: the header ``Billing-Signature: t=<unix seconds>,v1=<hex>`` where ``v1`` is
HMAC-SHA256 of ``"<t>.<raw body>"`` with the endpoint's secret (as Stripe signs). Receivers
recompute it, compare in constant time, and refuse timestamps older than their tolerance, which
stops replays. ``Billing-Event-Id`` is stable across retries and resends, for deduplication.

Delivery runs in a Celery task (``core.webhook_deliver``) that retries with exponential backoff;
each delivery row records its attempts, last status and error (the admin's delivery log).
"""

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing_site.core.audit import audit_log_write
from billing_site.core.models import WebhookDelivery, WebhookEndpoint

SIGNATURE_HEADER = "Billing-Signature"
EVENT_ID_HEADER = "Billing-Event-Id"
MAX_ATTEMPTS = 6
# Seconds before the first retry, doubled after each failure: 30 s, 1, 2, 4, 8 min by default.
DEFAULT_BACKOFF_BASE_SECONDS = 30
TIMEOUT_SECONDS = 10


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def webhook_signature_verify(
    *, secret: str, header: str, body: bytes, tolerance_seconds: int = 300, now: float | None = None
) -> bool:
    """What a receiver does: recompute the signature and check the timestamp's age."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance_seconds:
        return False
    expected = webhook_signature(secret=secret, timestamp=timestamp, body=body).split("v1=")[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def backoff_seconds(attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt."""
    base = getattr(settings, "WEBHOOK_BACKOFF_BASE_SECONDS", DEFAULT_BACKOFF_BASE_SECONDS)
    return float(base) * 2 ** max(0, attempts - 1)


def webhook_body(delivery: WebhookDelivery) -> bytes:
    envelope = {
        "id": delivery.event_id,
        "type": delivery.event_type,
        "created_at": delivery.created_at.isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode()


def _enqueue(delivery_ids: list[int]) -> None:
    from billing_site.core.tasks import webhook_deliver_task

    for delivery_id in delivery_ids:
        webhook_deliver_task.delay(delivery_id)


@transaction.atomic
def webhook_event_emit(*, event_type: str, payload: dict[str, Any]) -> list[WebhookDelivery]:
    """A delivery per active endpoint that wants ``event_type``, sent after the commit."""
    event_id = f"evt_{uuid.uuid4().hex}"
    deliveries = [
        WebhookDelivery.objects.create(
            endpoint=endpoint, event_id=event_id, event_type=event_type, payload=payload
        )
        for endpoint in WebhookEndpoint.objects.filter(active=True).order_by("pk")
        if endpoint.wants(event_type)
    ]
    if deliveries:
        ids = [d.pk for d in deliveries]
        transaction.on_commit(lambda: _enqueue(ids))
    return deliveries


def webhook_delivery_attempt(*, delivery_id: int) -> WebhookDelivery:
    """Post the delivery once and record the outcome. A 2xx is delivered; anything else leaves it
    pending with ``next_attempt_at`` (the task retries) or, after MAX_ATTEMPTS, failed."""
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    if delivery.status == WebhookDelivery.Status.DELIVERED:
        return delivery
    body = webhook_body(delivery)
    timestamp = int(time.time())
    request = urllib.request.Request(
        delivery.endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "billing-webhooks/1",
            SIGNATURE_HEADER: webhook_signature(
                secret=delivery.endpoint.secret, timestamp=timestamp, body=body
            ),
            EVENT_ID_HEADER: delivery.event_id,
        },
    )
    status_code: int | None = None
    error = ""
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            status_code = response.status
    except urllib.error.HTTPError as exc:
        status_code, error = exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        error = str(getattr(exc, "reason", exc))[:500]
    delivery.attempts += 1
    delivery.last_status_code = status_code
    now = timezone.now()
    if status_code is not None and 200 <= status_code < 300:
        delivery.status, delivery.delivered_at, delivery.last_error = (
            WebhookDelivery.Status.DELIVERED,
            now,
            "",
        )
        delivery.next_attempt_at = None
    else:
        delivery.last_error = error or f"HTTP {status_code}"
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None
        else:
            delivery.status = WebhookDelivery.Status.PENDING
            delivery.next_attempt_at = now + timedelta(seconds=backoff_seconds(delivery.attempts))
    delivery.save()
    return delivery


@transaction.atomic
def webhook_delivery_resend(*, delivery: WebhookDelivery, actor: Any = None) -> WebhookDelivery:
    """Send the same event (same id) again as a new delivery row, e.g. after a receiver's fix."""
    resent = WebhookDelivery.objects.create(
        endpoint=delivery.endpoint,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        payload=delivery.payload,
    )
    audit_log_write(
        actor=actor,
        action="webhook_delivery.resent",
        obj=resent,
        changes={"from_delivery": delivery.pk, "event_id": delivery.event_id},
    )
    transaction.on_commit(lambda: _enqueue([resent.pk]))
    return resent
