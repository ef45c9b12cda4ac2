"""Decoding and validating usage events on the ingest hot path.

Per-event validation is hand-written over msgspec-decoded builtins rather than a DRF serializer
per event (about twice the throughput), and every event gets its own outcome: one bad event never
fails its batch. The rules (DESIGN.md, "Metering"):

- `transaction_id`, `customer_id`: required non-empty strings of at most 255 characters;
- `code`: required, the code of an existing billable metric;
- `subscription_id`: optional string;
- `timestamp`: ISO 8601 with an offset or Unix seconds (integer or decimal, also as a string);
  naive datetimes, times before 1970 and times more than 24 hours ahead of receipt are refused;
  default: receipt;
- `properties`: a JSON object of at most 8 KiB serialized; the property a sum / max / last /
  weighted_sum metric reads must be present and a number or a decimal string.

Limits checked before anything recursive runs, so that one bad event costs only itself:

- an event's JSON is at most `MAX_EVENT_BYTES` (16 KiB) and nests at most `MAX_JSON_DEPTH` (32)
  levels of objects/arrays, the event itself counting as one;
- text is UTF-8; an event with invalid bytes is rejected naming the field that holds them.

Numbers: every JSON number is kept exactly. The value a numeric metric reads may be negative (a
`sum` of refunds), but must be finite with at most 30 digits before and 30 after the decimal
point (`MAX_NUMERIC_DIGITS`), so that every sum and every price of accepted events stays inside
the exact 200-digit arithmetic of `plans/pricing.py`: an accepted event can always be priced.

JSON numbers with a fraction or an exponent decode to `Decimal`, never `float`, so properties are
stored exactly as sent. Unknown top-level keys are ignored.

The payload hash identifies the event as sent: the customer id as sent, transaction id, code,
timestamp in UTC microseconds (or null when the event had none, so that a resend of an event
stamped at receipt is still a duplicate), subscription id and the properties as canonical JSON.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import msgspec

from billing_site.core.api.fields import EARLIEST_YEAR
from billing_site.core.json_limits import MAX_JSON_DEPTH, json_too_deep
from metering.models import NUMERIC_AGGREGATIONS

MAX_ID_LENGTH = 255
MAX_CODE_LENGTH = 100
MAX_PROPERTIES_BYTES = 8 * 1024
MAX_EVENT_BYTES = MAX_PROPERTIES_BYTES + 8 * 1024
MAX_NUMERIC_DIGITS = 30
MAX_FUTURE_SECONDS = 24 * 3600
# Larger exponents are refused when decoding: PostgreSQL's numeric (and so jsonb) cannot hold
# them, and one such number would otherwise fail the whole batch's statement.
MAX_DECIMAL_EXPONENT = 1000

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = 1_000_000


def utc_us(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * _US + delta.microseconds


# Like every datetime the API takes (billing_site.core.api.fields), no earlier than 1970.
_MIN_US = utc_us(datetime(EARLIEST_YEAR, 1, 1, tzinfo=UTC))
_DECIMAL_STRING = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_NUL_ESCAPE = b"\\u0000"


class NumberOutOfRange(ValueError):
    pass


def _decimal_hook(text: str) -> Decimal:
    number = Decimal(text)
    if number.is_finite() and number and abs(number.adjusted()) > MAX_DECIMAL_EXPONENT:
        raise NumberOutOfRange(f"number {text[:40]} is out of range")
    return number


event_decoder = msgspec.json.Decoder(float_hook=_decimal_hook)
# Canonical JSON: keys sorted at every level, Decimals written as the numbers they were sent as.
_canonical = msgspec.json.Encoder(decimal_format="number", order="sorted")


class MetricSpec(msgspec.Struct, frozen=True):
    """What ingest needs to know about a metric: the property a numeric metric reads."""

    code: str
    aggregation: str
    field_name: str
    numeric_property: str = ""

    @classmethod
    def of(cls, code: str, aggregation: str, field_name: str) -> MetricSpec:
        numeric = field_name if aggregation in NUMERIC_AGGREGATIONS else ""
        return cls(code, aggregation, field_name, numeric)


class ParsedEvent(msgspec.Struct):
    index: int
    sent_customer_id: str
    transaction_id: str
    code: str
    subscription_id: str
    timestamp_us: int
    properties_json: str
    payload_hash: str


class Rejection(msgspec.Struct):
    index: int
    field: str
    reason: str
    payload: Any = None


def event_decode(raw: Any) -> Any:
    """One event as builtins (Decimals for fractional numbers); raises ValueError if unusable.

    Accepts raw JSON (bytes, msgspec.Raw) or Python objects, which are normalised through JSON
    so that both paths validate and hash alike (a datetime becomes its ISO string, a float its
    Decimal).
    """
    try:
        data = raw if _is_raw(raw) else _canonical.encode(raw)
    except (TypeError, UnicodeError, OverflowError, RecursionError) as exc:
        raise EventDecodeError("event", f"not valid JSON: {exc}") from exc
    if problem := raw_event_problem(data):
        raise problem
    try:
        return event_decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise EventDecodeError("event", str(exc).split(" - at ", 1)[0]) from exc
    except UnicodeError:
        raise EventDecodeError(_invalid_utf8_path(data), "Not valid UTF-8 text.") from None
    except (msgspec.DecodeError, TypeError, OverflowError, RecursionError) as exc:
        raise EventDecodeError("event", f"not valid JSON: {exc}") from exc


def _is_raw(raw: Any) -> bool:
    return isinstance(raw, bytes | msgspec.Raw | bytearray | memoryview)


def raw_event_problem(raw: Any) -> EventDecodeError | None:
    """The size and depth limits of one event's JSON text, checked before decoding it."""
    size = len(raw)
    if size > MAX_EVENT_BYTES:
        return EventDecodeError(
            "event", f"At most {MAX_EVENT_BYTES} bytes of JSON; this event is {size} bytes."
        )
    if json_too_deep(raw):
        return EventDecodeError("properties", f"Nested more than {MAX_JSON_DEPTH} levels deep.")
    return None


def _invalid_utf8_path(raw: Any) -> str:
    """Where in the event the invalid UTF-8 bytes are (`properties.name`), else "event"; only
    on the error path, so a second decode is affordable."""
    try:
        value = json.loads(bytes(raw).decode("utf-8", "surrogateescape"))
    except (ValueError, RecursionError):
        return "event"
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if _has_surrogate(item):
                return path or "event"
        elif isinstance(item, dict | list):
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in pairs:
                if isinstance(key, str) and _has_surrogate(key):
                    return path or "event"
                child_path = (
                    f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else key)
                )
                stack.append((child, child_path))
    return "event"


def _has_surrogate(text: str) -> bool:
    return any("\udc80" <= char <= "\udcff" for char in text)


_events_decoder = msgspec.json.Decoder(list[Any], float_hook=_decimal_hook)


def events_decode(raws: Sequence[Any]) -> list[Any]:
    """Decode many events; an item that cannot be decoded becomes an EventDecodeError.

    Raw JSON items are decoded in one call when they all pass the size and depth limits and
    decode (the common case), else one by one so that a bad item costs only itself."""
    if raws and all(type(raw) is msgspec.Raw for raw in raws):
        if not any(raw_event_problem(raw) for raw in raws):
            try:
                return _events_decoder.decode(b"[" + b",".join(raws) + b"]")
            except (msgspec.MsgspecError, UnicodeError, RecursionError, OverflowError):
                pass
    decoded: list[Any] = []
    for raw in raws:
        try:
            decoded.append(event_decode(raw))
        except EventDecodeError as exc:
            decoded.append(exc)
    return decoded


class EventDecodeError(ValueError):
    """One event that cannot be decoded: `field` names where (`event` when it is the whole)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def payload_hash(
    *,
    customer_id: str,
    transaction_id: str,
    code: str,
    timestamp_us: int | None,
    subscription_id: str,
    properties_json: bytes,
) -> str:
    digest = hashlib.blake2b(
        _canonical.encode([customer_id, transaction_id, code, timestamp_us, subscription_id]),
        digest_size=16,
    )
    digest.update(properties_json)
    return digest.hexdigest()


def codes_of(events: list[Any]) -> set[str]:
    """The metric codes the events name that could be stored codes (others match none)."""
    return {
        code
        for event in events
        if isinstance(event, dict)
        and isinstance(code := event.get("code"), str)
        and len(code) <= MAX_CODE_LENGTH
        and "\x00" not in code
    }


def _id_ok(value: Any) -> bool:
    return (
        type(value) is str
        and 0 < len(value) <= MAX_ID_LENGTH
        and not value.isspace()
        and "\x00" not in value
    )


def _id_problem(value: Any) -> str:
    if value is None:
        return "This field is required."
    if not isinstance(value, str):
        return "Must be a string."
    if not value.strip():
        return "Must not be blank."
    if len(value) > MAX_ID_LENGTH:
        return f"At most {MAX_ID_LENGTH} characters."
    if "\x00" in value:
        return "Must not contain NUL characters."
    return ""


_NOT_A_TIMESTAMP = (
    "Not a timestamp: use ISO 8601 with an offset (2024-05-01T12:00:00Z) or Unix seconds."
)
_NAIVE = "The timestamp has no UTC offset; add one (Z or +02:00) or send Unix seconds."
_TOO_EARLY = f"The timestamp is out of range: it must be in {EARLIEST_YEAR} or later."
_WRONG_TYPE = "Use ISO 8601 with an offset (2024-05-01T12:00:00Z) or Unix seconds."


def timestamp_parse(value: Any, *, received_us: int) -> tuple[int | None, str]:
    """(UTC microseconds since the epoch, "") or (None, reason)."""
    unix_seconds = True
    if type(value) is str:
        if _DECIMAL_STRING.fullmatch(value):
            value = Decimal(value)
        else:
            try:
                moment = datetime.fromisoformat(value) if len(value) <= 64 else None
            except ValueError:
                moment = None
            if moment is None:
                return None, _NOT_A_TIMESTAMP
            if moment.utcoffset() is None:
                return None, _NAIVE
            if moment.year < EARLIEST_YEAR:
                return None, _TOO_EARLY
            us = utc_us(moment)
            unix_seconds = False
    if not unix_seconds:
        pass
    elif type(value) is int:  # not bool
        us = value * _US
    elif type(value) is Decimal and value.is_finite():
        us = int((value * _US).to_integral_value(ROUND_HALF_EVEN))
    else:
        return None, _WRONG_TYPE
    if us > received_us + MAX_FUTURE_SECONDS * _US:
        hint = (
            " Unix timestamps are in seconds, not milliseconds."
            if unix_seconds and us > 100 * received_us
            else ""
        )
        return None, f"The timestamp is more than 24 hours in the future.{hint}"
    if us < _MIN_US:
        return None, _TOO_EARLY
    return us, ""


_NUMERIC_LIMIT = 10**MAX_NUMERIC_DIGITS
_NOT_NUMERIC = "Must be a number or a decimal string."
_NUMERIC_RANGE = (
    f"Must have at most {MAX_NUMERIC_DIGITS} digits before and {MAX_NUMERIC_DIGITS} after the "
    "decimal point."
)


def _numeric_value_problem(value: Any) -> str:
    """ "" when `value` is a number a metric can aggregate and pricing can price, else why not."""
    if type(value) is int:
        return "" if -_NUMERIC_LIMIT < value < _NUMERIC_LIMIT else _NUMERIC_RANGE
    if isinstance(value, str):
        if len(value) > 100 or _DECIMAL_STRING.fullmatch(value) is None:
            return _NOT_NUMERIC
        value = Decimal(value)
    if type(value) is not Decimal or not value.is_finite():
        return _NOT_NUMERIC
    if value and (
        value.adjusted() >= MAX_NUMERIC_DIGITS or value.as_tuple().exponent < -MAX_NUMERIC_DIGITS  # type: ignore[operator]
    ):
        return _NUMERIC_RANGE
    return ""


def _strip_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_strip_nul(k): _strip_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_nul(v) for v in value]
    return value


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def event_validate(
    index: int,
    event: Any,
    *,
    metrics: dict[str, MetricSpec],
    received_us: int,
) -> ParsedEvent | Rejection:
    """Check one decoded event; the first problem found is its rejection."""
    if not isinstance(event, dict):
        return Rejection(index, "event", "An event is a JSON object.", event)
    transaction_id = event.get("transaction_id")
    if not _id_ok(transaction_id):
        return Rejection(index, "transaction_id", _id_problem(transaction_id), event)
    customer_id = event.get("customer_id")
    if not _id_ok(customer_id):
        return Rejection(index, "customer_id", _id_problem(customer_id), event)
    code = event.get("code")
    if code is None:
        return Rejection(index, "code", "This field is required.", event)
    if not isinstance(code, str):
        return Rejection(index, "code", "Must be a string.", event)
    metric = metrics.get(code)
    if metric is None:
        return Rejection(index, "code", f"No billable metric has the code '{code[:100]}'.", event)
    subscription_id = event.get("subscription_id")
    if subscription_id is None:
        subscription_id = ""
    elif problem := _id_problem(subscription_id):
        return Rejection(index, "subscription_id", problem, event)

    sent_timestamp = event.get("timestamp")
    if sent_timestamp is None:
        timestamp_us, hashed_timestamp = received_us, None
    else:
        timestamp_us, problem = timestamp_parse(sent_timestamp, received_us=received_us)
        if timestamp_us is None:
            return Rejection(index, "timestamp", problem, event)
        hashed_timestamp = timestamp_us

    properties = event.get("properties")
    if properties is None:
        properties = {}
    elif not isinstance(properties, dict):
        return Rejection(index, "properties", "Must be a JSON object.", event)
    properties_json = _canonical.encode(properties)
    if len(properties_json) > MAX_PROPERTIES_BYTES:
        return Rejection(
            index,
            "properties",
            f"At most {MAX_PROPERTIES_BYTES} bytes serialized; these are "
            f"{len(properties_json)} bytes.",
            None,
        )
    if _NUL_ESCAPE in properties_json and _has_nul(properties):
        return Rejection(index, "properties", "Must not contain NUL characters.", event)
    if numeric_property := metric.numeric_property:
        if numeric_property not in properties:
            return Rejection(
                index,
                f"properties.{numeric_property}",
                f"Required by the {metric.aggregation} metric '{code}'.",
                event,
            )
        if problem := _numeric_value_problem(properties[numeric_property]):
            return Rejection(index, f"properties.{numeric_property}", problem, event)

    return ParsedEvent(
        index=index,
        sent_customer_id=customer_id,
        transaction_id=transaction_id,
        code=code,
        subscription_id=subscription_id,
        timestamp_us=timestamp_us,
        properties_json=properties_json.decode(),
        payload_hash=payload_hash(
            customer_id=customer_id,
            transaction_id=transaction_id,
            code=code,
            timestamp_us=hashed_timestamp,
            subscription_id=subscription_id,
            properties_json=properties_json,
        ),
    )


def rejection_payload_json(payload: Any) -> str | None:
    """The rejected event as JSON text for the operator, safe for jsonb (no NUL), or None."""
    if payload is None:
        return None
    try:
        encoded = _canonical.encode(payload)
    except (TypeError, UnicodeError, OverflowError):
        return None
    if _NUL_ESCAPE in encoded:
        encoded = _canonical.encode(_strip_nul(payload))
    if len(encoded) > 4 * MAX_PROPERTIES_BYTES:
        return None
    return encoded.decode()


def text_for_column(value: Any, max_length: int) -> str:
    """A value shown beside a rejection: a short NUL-free string, or ""."""
    if not isinstance(value, str):
        return ""
    return value[:max_length].replace("\x00", "\ufffd")
