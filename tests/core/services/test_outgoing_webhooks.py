import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction

from billing_site.core.models import WebhookDelivery, WebhookEndpoint
from billing_site.core.webhooks import (
    EVENT_ID_HEADER,
    MAX_ATTEMPTS,
    SIGNATURE_HEADER,
    webhook_delivery_attempt,
    webhook_event_emit,
)
from billing_site.core.webhooks import (
    webhook_signature_verify as verify,
)

SECRET = "whsec_test_receiver"


class Receiver:
    """A real HTTP receiver on 127.0.0.1 (a free port) that verifies signatures the way a
    customer's would, and fails the first ``failures`` requests with a 503."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                valid = verify(secret=SECRET, header=self.headers[SIGNATURE_HEADER], body=body)
                receiver.requests.append(
                    {"valid": valid, "body": json.loads(body), "id": self.headers[EVENT_ID_HEADER]}
                )
                failing = len(receiver.requests) <= receiver.failures
                self.send_response(503 if failing else (200 if valid else 400))
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.mark.django_db
def test_a_delivery_is_signed_and_the_receiver_verifies_it(receiver):
    # given
    endpoint = WebhookEndpoint.objects.create(url=receiver.url, secret=SECRET)
    (delivery,) = webhook_event_emit(event_type="usage.threshold_reached", payload={"used": "8"})
    # when
    delivered = webhook_delivery_attempt(delivery_id=delivery.pk)
    # then
    assert (delivered.status, delivered.attempts, delivered.last_status_code) == (
        "delivered",
        1,
        200,
    )
    (request,) = receiver.requests
    assert request["valid"] is True
    assert request["id"] == delivery.event_id
    assert request["body"]["type"] == "usage.threshold_reached"
    assert request["body"]["data"] == {"used": "8"}
    assert delivered.endpoint == endpoint


def test_a_tampered_body_or_an_old_timestamp_fails_verification():
    from billing_site.core.webhooks import webhook_signature

    header = webhook_signature(secret=SECRET, timestamp=1_000_000, body=b'{"a":1}')
    # then
    assert verify(secret=SECRET, header=header, body=b'{"a":1}', now=1_000_010) is True
    assert verify(secret=SECRET, header=header, body=b'{"a":2}', now=1_000_010) is False
    assert verify(secret="other", header=header, body=b'{"a":1}', now=1_000_010) is False
    assert verify(secret=SECRET, header=header, body=b'{"a":1}', now=1_000_400) is False


@pytest.mark.django_db
def test_an_unreachable_endpoint_backs_off_then_fails_after_the_last_attempt(settings):
    # given: nothing listens on the endpoint's port
    with Receiver() as closed:
        url = closed.url
    WebhookEndpoint.objects.create(url=url, secret=SECRET)
    (delivery,) = webhook_event_emit(event_type="x", payload={})
    # when: every attempt fails
    waits = []
    for _ in range(MAX_ATTEMPTS):
        delivery = webhook_delivery_attempt(delivery_id=delivery.pk)
        if delivery.next_attempt_at:
            waits.append(round((delivery.next_attempt_at - delivery.updated_at).total_seconds()))
    # then: exponential backoff, then failed
    assert waits == [30, 60, 120, 240, 480]
    assert (delivery.status, delivery.attempts) == ("failed", MAX_ATTEMPTS)
    assert delivery.last_error


@pytest.mark.django_db(transaction=True)
def test_a_celery_worker_retries_a_failing_receiver_until_it_answers(settings):
    # given: a receiver failing twice, a real worker on the Redis broker, short backoff
    from celery.contrib.testing.worker import start_worker

    from billing_site.celery import app

    settings.WEBHOOK_BACKOFF_BASE_SECONDS = 0.2
    with (
        Receiver(failures=2) as failing,
        start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10),
    ):
        WebhookEndpoint.objects.create(url=failing.url, secret=SECRET)
        # when: an event is emitted (enqueued on commit)
        with transaction.atomic():
            (delivery,) = webhook_event_emit(event_type="usage.threshold_reached", payload={})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            delivery.refresh_from_db()
            if delivery.status != WebhookDelivery.Status.PENDING:
                break
            time.sleep(0.1)
    # then: delivered on the third attempt, every attempt signed
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 200)
    assert [r["valid"] for r in failing.requests] == [True, True, True]
