"""Usage event ingest: validate, store once, report every event's outcome by index.

A batch is a handful of statements in one transaction, whatever its size: the metrics its codes
name, one `INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING` resolving member ids to
their customers, and, only when needed, the stored hashes of keys that already existed, the
unknown-customer counters and the rejections. A failure rolls everything back, so a retry of the
batch counts every event exactly once; `(customer_id, transaction_id)` being unique makes two
concurrent sends of one event one `accepted` and one `duplicate`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.utils import timezone

from metering.ingest.parsing import (
    EventDecodeError,
    MetricSpec,
    ParsedEvent,
    Rejection,
    codes_of,
    event_validate,
    events_decode,
    rejection_payload_json,
    text_for_column,
    utc_us,
)
from metering.ingest.sql import (
    RejectionRow,
    events_insert,
    metric_specs_fetch,
    raw_cursor,
    rejections_insert,
    stored_hashes_fetch,
    unknown_customers_upsert,
)


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class EventOutcome:
    index: int
    status: Outcome
    field: str = ""
    reason: str = ""


@dataclass(frozen=True)
class IngestResult:
    outcomes: list[EventOutcome]
    accepted: int = field(init=False)
    duplicates: int = field(init=False)
    conflicts: int = field(init=False)
    rejected: int = field(init=False)

    def __post_init__(self) -> None:
        counts = dict.fromkeys(Outcome, 0)
        for outcome in self.outcomes:
            counts[outcome.status] += 1
        object.__setattr__(self, "accepted", counts[Outcome.ACCEPTED])
        object.__setattr__(self, "duplicates", counts[Outcome.DUPLICATE])
        object.__setattr__(self, "conflicts", counts[Outcome.CONFLICT])
        object.__setattr__(self, "rejected", counts[Outcome.REJECTED])


# Higher apps that keep something derived from events (entitlements' usage counters) register a
# listener here (in their AppConfig.ready); metering cannot import them. A listener gets the
# (customer_id, code) pairs of the events just stored, inside the ingest transaction.
_listeners: list[Callable[[set[tuple[str, str]]], None]] = []


def ingest_listener_register(listener: Callable[[set[tuple[str, str]]], None]) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


class StoredEventMissing(RuntimeError):
    """A key the insert found taken has no stored row: events are never deleted, so this is a
    bug; raising rolls the batch back so that a retry still counts every event once."""


@transaction.atomic
def usage_events_ingest(
    *,
    events: Sequence[Any],
    received_at: datetime | None = None,
    api_key_prefix: str = "",
) -> IngestResult:
    """Ingest a batch: each item a dict, or raw JSON (bytes / msgspec.Raw) of one event."""
    return _ingest(events, received_at or timezone.now(), api_key_prefix, None, notify=True)


def usage_events_record(
    *, events: Sequence[Any], metrics: Mapping[str, MetricSpec], received_at: datetime
) -> IngestResult:
    """Ingest for a caller inside its own transaction that already read the events' metrics
    (the entitlement consume, under its lock): the same validation and insert, in one statement
    for valid events, without a savepoint (a failure rolls back the caller's transaction, which
    must then fail too) and without the ingest listeners: the caller keeps what it derives from
    these events current itself, in the same transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("usage_events_record runs inside the caller's transaction.")
    return _ingest(events, received_at, "", metrics, notify=False)


def _ingest(
    events: Sequence[Any],
    received_at: datetime,
    api_key_prefix: str,
    metrics: Mapping[str, MetricSpec] | None,
    *,
    notify: bool,
) -> IngestResult:
    received_us = utc_us(received_at)

    decoded = events_decode(events)
    rejections: list[Rejection] = [
        Rejection(index, event.field, event.reason, None)
        for index, event in enumerate(decoded)
        if type(event) is EventDecodeError
    ]

    statuses: list[Outcome | None] = [None] * len(events)
    with raw_cursor() as cursor:
        if metrics is None:
            metrics = metric_specs_fetch(cursor, sorted(codes_of(decoded)))
        parsed: list[ParsedEvent] = []
        for index, event in enumerate(decoded):
            if type(event) is EventDecodeError:
                continue
            checked = event_validate(index, event, metrics=metrics, received_us=received_us)
            if type(checked) is ParsedEvent:
                parsed.append(checked)
            else:
                rejections.append(checked)

        if parsed:
            unknown_counts, stored = _store(cursor, parsed, statuses, received_at=received_at)
            unknown_customers_upsert(cursor, unknown_counts, seen_at=received_at)
            if stored and notify and _listeners:
                for listener in _listeners:
                    listener(stored)
        if rejections:
            rejections.sort(key=lambda rejection: rejection.index)
            rejections_insert(
                cursor,
                [_rejection_row(rejection) for rejection in rejections],
                received_at=received_at,
                api_key_prefix=api_key_prefix,
            )

    outcomes = [
        EventOutcome(index, status) for index, status in enumerate(statuses) if status is not None
    ]
    if rejections:
        outcomes.extend(
            EventOutcome(rejection.index, Outcome.REJECTED, rejection.field, rejection.reason)
            for rejection in rejections
        )
        outcomes.sort(key=lambda outcome: outcome.index)
    return IngestResult(outcomes)


def _store(
    cursor: Any,
    parsed: list[ParsedEvent],
    statuses: list[Outcome | None],
    *,
    received_at: datetime,
) -> tuple[dict[str, int], set[tuple[str, str]]]:
    """Insert the valid events, set their statuses; returns accepted counts of unknown ids and
    the (customer_id, code) pairs stored."""
    rows = events_insert(cursor, parsed, received_at=received_at)
    unknown_counts: dict[str, int] = {}
    first_of: dict[tuple[str, str], ParsedEvent] = {}
    accepted_keys: set[tuple[str, str]] = set()
    stored_pairs: set[tuple[str, str]] = set()
    pending: list[tuple[ParsedEvent, tuple[str, str]]] = []
    for event, row in zip(parsed, rows, strict=True):
        key = (row.customer_id, event.transaction_id)
        first = first_of.setdefault(key, event)
        if first is event:
            if row.inserted:
                statuses[event.index] = Outcome.ACCEPTED
                accepted_keys.add(key)
                stored_pairs.add((row.customer_id, event.code))
                if row.unknown:
                    unknown_counts[row.customer_id] = unknown_counts.get(row.customer_id, 0) + 1
            else:
                pending.append((event, key))
        elif key in accepted_keys:
            # A repeat within the batch of an event this batch stored: the first one won.
            statuses[event.index] = _same_or_conflict(event, first.payload_hash)
        else:
            pending.append((event, key))
    if pending:
        stored = stored_hashes_fetch(cursor, list(dict.fromkeys(key for _, key in pending)))
        for event, key in pending:
            if key not in stored:
                raise StoredEventMissing(f"No stored event for key {key!r}.")
            statuses[event.index] = _same_or_conflict(event, stored[key])
    return unknown_counts, stored_pairs


def _same_or_conflict(event: ParsedEvent, stored_hash: str) -> Outcome:
    return Outcome.DUPLICATE if event.payload_hash == stored_hash else Outcome.CONFLICT


def _rejection_row(rejection: Rejection) -> RejectionRow:
    payload = rejection.payload if isinstance(rejection.payload, dict) else {}
    return RejectionRow(
        customer_id=text_for_column(payload.get("customer_id"), 255),
        transaction_id=text_for_column(payload.get("transaction_id"), 255),
        code=text_for_column(payload.get("code"), 100),
        field=rejection.field[:100],
        reason=rejection.reason.replace("\x00", "\ufffd"),
        payload_json=rejection_payload_json(rejection.payload),
    )
