"""Serializer fields and validators every endpoint uses for dates, durations and JSON objects,
so that no value a client sends can overflow the calendar or the database.

- `BoundedDateTimeField`: any datetime within [API_EARLIEST, API_LATEST) (UTC); out of range,
  including years 1 and 9999 whose UTC conversion overflows, is a 400 naming the field;
- `AwareDateTimeField`: the same, and refuses a datetime without an offset;
- `period_validate(start, end, max_span=...)`: a half-open period's order and length;
- `JsonObjectField`: a JSON object of at most `max_bytes` serialized (customer metadata...);
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

API_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
API_LATEST = datetime(2100, 1, 1, tzinfo=UTC)
MAX_DURATION_DAYS = 3660
MAX_JSON_OBJECT_BYTES = 8 * 1024

# "2026-03-01T00:00:00 01:00": a '+' sent unencoded in a query string arrives as a space.
_UNENCODED_PLUS = re.compile(r"^(.*T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")
_OUT_OF_RANGE = f"Must be between {API_EARLIEST:%Y-%m-%d} and {API_LATEST:%Y-%m-%d} (UTC)."


class BoundedDateTimeField(serializers.DateTimeField):
    """ISO 8601, returned in UTC, within [API_EARLIEST, API_LATEST)."""

    def to_internal_value(self, value: Any) -> datetime:
        if isinstance(value, str) and (match := _UNENCODED_PLUS.match(value.strip())):
            value = f"{match[1]}+{match[2]}"
        try:
            moment = super().to_internal_value(value)
        except OverflowError:
            raise serializers.ValidationError(_OUT_OF_RANGE) from None
        if not API_EARLIEST <= moment < API_LATEST:
            raise serializers.ValidationError(_OUT_OF_RANGE)
        return moment

    def enforce_timezone(self, value: datetime) -> datetime:
        return super().enforce_timezone(value).astimezone(UTC)


class AwareDateTimeField(BoundedDateTimeField):
    """ISO 8601 with an offset (or Z), returned in UTC; a naive datetime is refused."""

    def enforce_timezone(self, value: datetime) -> datetime:
        if timezone.is_naive(value):
            raise serializers.ValidationError(
                "Give the offset: ISO 8601 such as 2026-03-01T00:00:00Z or "
                "2026-03-01T00:00:00+01:00 (URL-encode '+' as %2B)."
            )
        return value.astimezone(UTC)


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


class JsonObjectField(serializers.DictField):
    """A JSON object of at most `max_bytes` bytes serialized (NUL and depth are refused by the
    parser already)."""

    def __init__(self, *, max_bytes: int = MAX_JSON_OBJECT_BYTES, **kwargs: Any) -> None:
        self.max_bytes = max_bytes
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = super().to_internal_value(data)
        size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
        if size > self.max_bytes:
            raise serializers.ValidationError(
                f"At most {self.max_bytes} bytes serialized; this is {size} bytes."
            )
        return value
