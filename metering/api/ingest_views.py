"""Ingest and reconciliation endpoints: `POST /events`, `/events/batch`, `/events/lookup`.

Bodies are read and decoded with msgspec instead of DRF's parser and serializers (the schema
still documents them through the serializers in `serializers.py`); authentication, scopes and
throttling stay DRF's.
"""

from typing import Any

import msgspec
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_site.core.api.serializers import ERROR_RESPONSE, ApiErrorOutputSerializer
from billing_site.core.exceptions import ApplicationError, ConflictError
from metering.api.serializers import (
    UsageEventBatchIngestInputSerializer,
    UsageEventBatchIngestOutputSerializer,
    UsageEventIngestInputSerializer,
    UsageEventIngestOutputSerializer,
    UsageEventLookupInputSerializer,
    UsageEventLookupOutputSerializer,
)
from metering.ingest.envelopes import (
    MAX_BATCH_EVENTS,
    MalformedEnvelope,
    batch_envelope_decode,
    event_body_decode,
    lookup_envelope_decode,
)
from metering.ingest.parsing import MAX_PROPERTIES_BYTES
from metering.ingest.selectors import events_lookup
from metering.services import Outcome, usage_events_ingest

# Room for a full batch of events with the largest properties allowed.
MAX_BATCH_BODY_BYTES = MAX_BATCH_EVENTS * (MAX_PROPERTIES_BYTES + 2048)
MAX_EVENT_BODY_BYTES = MAX_PROPERTIES_BYTES + 16 * 1024

_encoder = msgspec.json.Encoder()


def _body(request: Request, *, limit: int) -> bytes:
    """The raw body of a JSON request (415 otherwise), read past Django's
    DATA_UPLOAD_MAX_MEMORY_SIZE (a full batch may be larger) but within `limit`."""
    if request.content_type != "application/json":
        raise exceptions.UnsupportedMediaType(
            request.content_type or "(none)",
            detail="Send the body as JSON with 'Content-Type: application/json'.",
        )
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = request.stream
    body = stream.read(limit + 1) if length <= limit and stream is not None else b""
    if length > limit or len(body) > limit:
        raise ApplicationError(
            f"The body is larger than {limit} bytes.", code="payload_too_large", status=413
        )
    return body


def _malformed(exc: MalformedEnvelope) -> ApplicationError:
    return ApplicationError(exc.message, code="invalid", fields={exc.field: [exc.message]})


def _json(body: dict[str, Any], status: int = 200) -> HttpResponse:
    return HttpResponse(_encoder.encode(body), status=status, content_type="application/json")


class UsageEventIngestApi(APIView):
    """Ingest one usage event."""

    required_scopes = ("events:write",)

    @extend_schema(
        operation_id="events_ingest",
        tags=["events"],
        request=UsageEventIngestInputSerializer,
        responses={
            201: OpenApiResponse(UsageEventIngestOutputSerializer, description="Stored."),
            200: OpenApiResponse(
                UsageEventIngestOutputSerializer,
                description="Already stored with the same payload; counted once.",
            ),
            400: OpenApiResponse(
                ApiErrorOutputSerializer, description="Rejected; `fields` names the field."
            ),
            409: OpenApiResponse(
                ApiErrorOutputSerializer,
                description="Already stored with a different payload; the original is kept.",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        body = _body(request, limit=MAX_EVENT_BODY_BYTES)
        try:
            event = event_body_decode(body)
        except MalformedEnvelope as exc:
            raise _malformed(exc) from exc
        result = usage_events_ingest(
            events=[msgspec.Raw(body)],
            received_at=timezone.now(),
            api_key_prefix=request.auth.prefix,
        )
        outcome = result.outcomes[0]
        if outcome.status is Outcome.REJECTED:
            raise ApplicationError(
                f"{outcome.field}: {outcome.reason}",
                code="invalid",
                fields={outcome.field: [outcome.reason]},
            )
        ids = {"transaction_id": event["transaction_id"], "customer_id": event["customer_id"]}
        if outcome.status is Outcome.CONFLICT:
            raise ConflictError(
                "An event with this customer_id and transaction_id is already stored with a "
                "different payload; the original is kept.",
                extra=ids,
            )
        status = 201 if outcome.status is Outcome.ACCEPTED else 200
        return Response({"status": outcome.status.value, **ids}, status=status)


class UsageEventBatchIngestApi(APIView):
    """Ingest up to 1,000 usage events; every event's outcome is reported by its index."""

    required_scopes = ("events:write",)

    @extend_schema(
        operation_id="events_batch_ingest",
        tags=["events"],
        request=UsageEventBatchIngestInputSerializer,
        responses={
            200: OpenApiResponse(
                UsageEventBatchIngestOutputSerializer,
                description="Per event: accepted, duplicate, conflict or rejected (with the "
                "field and reason). Valid events are stored even when others are rejected.",
            ),
            400: OpenApiResponse(
                ApiErrorOutputSerializer,
                description="Malformed envelope: not JSON, no events list, or more than 1,000.",
            ),
            413: ERROR_RESPONSE,
        },
    )
    def post(self, request: Request) -> HttpResponse:
        body = _body(request, limit=MAX_BATCH_BODY_BYTES)
        try:
            events = batch_envelope_decode(body)
        except MalformedEnvelope as exc:
            raise _malformed(exc) from exc
        result = usage_events_ingest(
            events=events, received_at=timezone.now(), api_key_prefix=request.auth.prefix
        )
        results: list[dict[str, Any]] = [
            {"index": outcome.index, "status": outcome.status.value}
            if outcome.status is not Outcome.REJECTED
            else {
                "index": outcome.index,
                "status": outcome.status.value,
                "field": outcome.field,
                "reason": outcome.reason,
            }
            for outcome in result.outcomes
        ]
        return _json(
            {
                "accepted": result.accepted,
                "duplicates": result.duplicates,
                "conflicts": result.conflicts,
                "rejected": result.rejected,
                "results": results,
            }
        )


class UsageEventLookupApi(APIView):
    """Which of up to 1,000 (customer_id, transaction_id) pairs were stored, when, and with what
    payload hash: for a service to reconcile after a timeout instead of guessing."""

    required_scopes = ("events:read",)

    @extend_schema(
        operation_id="events_lookup",
        tags=["events"],
        request=UsageEventLookupInputSerializer,
        responses={200: UsageEventLookupOutputSerializer, 400: ERROR_RESPONSE},
    )
    def post(self, request: Request) -> HttpResponse:
        body = _body(request, limit=MAX_BATCH_EVENTS * 1024)
        try:
            keys = lookup_envelope_decode(body)
        except MalformedEnvelope as exc:
            raise _malformed(exc) from exc
        results = [
            {
                "customer_id": row.customer_id,
                "transaction_id": row.transaction_id,
                "found": True,
                "received_at": row.received_at,
                "timestamp": row.timestamp,
                "payload_hash": row.payload_hash,
                "code": row.code,
            }
            if row.found
            else {
                "customer_id": row.customer_id,
                "transaction_id": row.transaction_id,
                "found": False,
            }
            for row in events_lookup(keys=keys)
        ]
        return _json({"results": results})
