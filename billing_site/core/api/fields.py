"""Serializer fields and validators every endpoint uses for dates, durations and JSON objects,
so that no value a client sends can overflow the calendar or the database.

- `BoundedDateTimeField`: a datetime in the years 1970 to 2099 as sent (the schema states it as a
  pattern); out of range, including years 1 and 9999 whose UTC conversion overflows, is a 400
  naming the field;
- `AwareDateTimeField`: the same, and refuses a datetime without an offset;
- `period_validate(start, end, max_span=...)`: a half-open period's order and length;
- `JsonObjectField` / `JsonValueField`: free-form JSON (customer metadata, an override's value)
  that jsonb can store: no NUL in any key or string, at most `max_bytes` serialized;
- `JsonBooleanField`: a boolean in a JSON body, `true` or `false` only;
- `MAX_DURATION_DAYS`: the longest duration in days (trial days, grace days) we accept.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from django.utils import timezone
from rest_framework import serializers

from billing_site.core.json_limits import JsonProblem, json_value_check

EARLIEST_YEAR = 1970
LATEST_YEAR = 2099
MAX_DURATION_DAYS = 3660
MAX_JSON_OBJECT_BYTES = 8 * 1024

# "2026-03-01T00:00:00 01:00": a '+' sent unencoded in a query string arrives as a space.
_UNENCODED_PLUS = re.compile(r"^(.*T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")
_OUT_OF_RANGE = f"The year must be {EARLIEST_YEAR} to {LATEST_YEAR}."


def _in_range(value: datetime) -> datetime:
    # The year as sent (before conversion to UTC, which overflows for years 1 and 9999), so that
    # the schema can state the bound as a pattern on the text.
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise serializers.ValidationError(_OUT_OF_RANGE)
    return value


class BoundedDateTimeField(serializers.DateTimeField):
    """ISO 8601, returned in UTC, in the years EARLIEST_YEAR to LATEST_YEAR (as sent)."""

    def to_internal_value(self, value: Any) -> datetime:
        if isinstance(value, str) and (match := _UNENCODED_PLUS.match(value.strip())):
            value = f"{match[1]}+{match[2]}"
        return super().to_internal_value(value)

    def enforce_timezone(self, value: datetime) -> datetime:
        return super().enforce_timezone(_in_range(value)).astimezone(UTC)


class AwareDateTimeField(BoundedDateTimeField):
    """ISO 8601 with an offset (or Z), returned in UTC; a naive datetime is refused."""

    def enforce_timezone(self, value: datetime) -> datetime:
        if timezone.is_naive(value):
            raise serializers.ValidationError(
                "Give the offset: ISO 8601 such as 2026-03-01T00:00:00Z or "
                "2026-03-01T00:00:00+01:00 (URL-encode '+' as %2B)."
            )
        return _in_range(value).astimezone(UTC)


def period_validate(
    start: datetime,
    end: datetime,
    *,
    max_span: relativedelta | None = None,
    end_field: str = "to",
    start_field: str = "from",
) -> None:
    """A half-open period [start, end): end after start and, if given, at most `max_span` long."""
    if end <= start:
        raise serializers.ValidationError({end_field: [f"Must be after {start_field}."]})
    if max_span is not None and end > start + max_span:
        raise serializers.ValidationError(
            {end_field: [f"The period can span at most {_span_words(max_span)}."]}
        )


def _span_words(span: relativedelta) -> str:
    if span == relativedelta(years=1):
        return "one year"
    return str(span)


def duration_days_field(**kwargs: Any) -> serializers.IntegerField:
    """A number of days, 0 to MAX_DURATION_DAYS (ten years)."""
    return serializers.IntegerField(min_value=0, max_value=MAX_DURATION_DAYS, **kwargs)


class JsonBooleanField(serializers.BooleanField):
    """A boolean in a JSON body: `true` or `false` only. DRF's BooleanField also takes 0, 1,
    "yes", "on"..., which suits query strings and forms but hides a client's bug in JSON."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


def _storable_json(value: Any, max_bytes: int) -> Any:
    """A free-form JSON value PostgreSQL's jsonb can store: no NUL, finite, bounded in depth and
    size; the error names the path inside the value (`metadata.a[2]`)."""
    try:
        json_value_check(value)
    except JsonProblem as problem:
        if problem.path:
            raise serializers.ValidationError({problem.path: [problem.reason]}) from None
        raise serializers.ValidationError(problem.reason) from None
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    if size > max_bytes:
        raise serializers.ValidationError(f"At most {max_bytes} bytes serialized; this is {size}.")
    return value


class JsonObjectField(serializers.DictField):
    """A JSON object of at most `max_bytes` bytes serialized, with no NUL character in any key
    or string (customer metadata...)."""

    def __init__(self, *, max_bytes: int = MAX_JSON_OBJECT_BYTES, **kwargs: Any) -> None:
        self.max_bytes = max_bytes
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        return _storable_json(super().to_internal_value(data), self.max_bytes)


class JsonValueField(serializers.JSONField):
    """Any JSON value, with the limits of JsonObjectField."""

    def __init__(self, *, max_bytes: int = MAX_JSON_OBJECT_BYTES, **kwargs: Any) -> None:
        self.max_bytes = max_bytes
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        return _storable_json(super().to_internal_value(data), self.max_bytes)
