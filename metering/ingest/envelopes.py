"""Request bodies of the ingest endpoints as a whole: the batch and lookup envelopes.

A malformed envelope is the request's fault (a 400 naming the field); the events inside are
decoded and judged one by one by `metering.ingest.parsing`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec

from billing_site.core.json_limits import json_too_deep
from metering.ingest.parsing import MAX_ID_LENGTH, event_decoder, raw_event_problem

MAX_BATCH_EVENTS = 1000


class BatchEnvelope(msgspec.Struct):
    events: Annotated[list[msgspec.Raw], msgspec.Meta(min_length=1, max_length=MAX_BATCH_EVENTS)]


_Id = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ID_LENGTH)]


class LookupKey(msgspec.Struct):
    customer_id: _Id
    transaction_id: _Id


class LookupEnvelope(msgspec.Struct):
    events: Annotated[list[LookupKey], msgspec.Meta(min_length=1, max_length=MAX_BATCH_EVENTS)]


_envelope_decoder = msgspec.json.Decoder(BatchEnvelope)
_lookup_decoder = msgspec.json.Decoder(LookupEnvelope)


class MalformedEnvelope(ValueError):
    """The request body as a whole is unusable (a 400, unlike a rejected event)."""

    def __init__(self, message: str, field: str = "__all__") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


_MISSING_FIELD = re.compile(r"missing required field `(\w+)`")


def _malformed(exc: msgspec.MsgspecError, shape: str) -> MalformedEnvelope:
    if not isinstance(exc, msgspec.ValidationError):
        return MalformedEnvelope(f"The body is not valid JSON: {exc}.")
    message, _, where = str(exc).partition(" - at `$")
    field = where.rstrip("`").lstrip(".")
    if missing := _MISSING_FIELD.search(message):
        field = f"{field}.{missing[1]}" if field else missing[1]
    return MalformedEnvelope(
        f"Send {shape}: {message[0].lower()}{message[1:]}.", field or "__all__"
    )


def batch_envelope_decode(body: bytes) -> list[msgspec.Raw]:
    """`{"events": [...]}` with 1..1000 events, each kept undecoded for per-event decoding.

    msgspec skips over an event's content recursively even to keep it raw, and raises
    RecursionError for a body nesting hundreds of levels deep: such a body is split by
    `_events_split` instead, which does not recurse, so the deep event is rejected on its own
    and the rest of its batch stored."""
    shape = f'{{"events": [...]}} with 1 to {MAX_BATCH_EVENTS} events'
    try:
        return _envelope_decoder.decode(body).events
    except RecursionError:
        # Only a body nesting hundreds of levels gets here; scanning every body for depth up
        # front would cost the hot path a pass over its bytes.
        return _events_split(body, shape)
    except msgspec.MsgspecError as exc:
        raise _malformed(exc, shape) from exc
    except UnicodeError as exc:
        raise MalformedEnvelope(f"The body is not valid UTF-8: {exc}.") from exc


_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{},:]', re.DOTALL)


def _events_split(body: bytes, shape: str) -> list[msgspec.Raw]:
    """The byte spans of the items of the top-level `events` array, found without recursion."""
    depth = 0
    key = b""
    in_events = False
    events: list[msgspec.Raw] = []
    start = -1
    previous = b""
    for match in _TOKEN.finditer(body):
        token = match[0]
        if token in (b"{", b"["):
            if depth == 0 and token != b"{":
                break
            if depth == 1 and token == b"[" and previous == b":" and key == b'"events"':
                in_events, start = True, match.end()
            depth += 1
        elif token in (b"}", b"]"):
            depth -= 1
            if in_events and depth == 1:
                if body[start : match.start()].strip():
                    events.append(msgspec.Raw(body[start : match.start()].strip()))
                in_events = False
        elif token == b"," and in_events and depth == 2:
            events.append(msgspec.Raw(body[start : match.start()].strip()))
            start = match.end()
        elif depth == 1 and token.startswith(b'"') and previous in (b"{", b","):
            key = token
        previous = token
    if not 1 <= len(events) <= MAX_BATCH_EVENTS or depth != 0:
        raise MalformedEnvelope(f"Send {shape}.", "events")
    return events


def lookup_envelope_decode(body: bytes) -> list[tuple[str, str]]:
    """`{"events": [{"customer_id", "transaction_id"}, ...]}` with 1..1000 pairs."""
    shape = f'{{"events": [{{"customer_id", "transaction_id"}}, ...]}} with 1 to {MAX_BATCH_EVENTS}'
    if json_too_deep(body):
        raise MalformedEnvelope(f"Send {shape} pairs; this body nests too deep.")
    try:
        keys = _lookup_decoder.decode(body).events
    except msgspec.MsgspecError as exc:
        raise _malformed(exc, shape + " pairs") from exc
    except UnicodeError as exc:
        raise MalformedEnvelope(f"The body is not valid UTF-8: {exc}.") from exc
    for index, key in enumerate(keys):
        for name in ("customer_id", "transaction_id"):
            if "\x00" in getattr(key, name):
                raise MalformedEnvelope(
                    "Must not contain NUL characters.", f"events[{index}].{name}"
                )
    return [(key.customer_id, key.transaction_id) for key in keys]


def event_body_decode(body: bytes) -> Any:
    """One event's body as builtins, for echoing its ids; raises MalformedEnvelope if not JSON.

    None when the event's own validation will reject it (too large, too deep, not UTF-8)."""
    if raw_event_problem(body):
        return None
    try:
        return event_decoder.decode(body)
    except (msgspec.ValidationError, UnicodeError):
        return None
    except msgspec.DecodeError as exc:
        raise MalformedEnvelope(f"The body is not valid JSON: {exc}.") from exc
