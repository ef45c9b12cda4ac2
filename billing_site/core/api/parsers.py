"""The API's JSON parser: DRF's, made safe for any body a client can send.

- a body over `DATA_UPLOAD_MAX_MEMORY_SIZE` is a 413 (read no further than the limit);
- nesting deeper than `MAX_JSON_DEPTH` is a 400 before the recursive decoder runs;
- invalid UTF-8, NaN/Infinity and numbers too large for a float (`1e309`) are 400s.

Every endpoint that reads `request.data` inherits these checks (settings: DEFAULT_PARSER_CLASSES).
NUL characters, which PostgreSQL cannot store, are refused by the fields that read them: DRF's
text fields always did, and free-form JSON goes through `JsonObjectField` / `JsonValueField`
(`billing_site.core.api.fields`). Refusing them here would also refuse them in fields the
endpoint ignores, which the OpenAPI schema allows.
"""

from __future__ import annotations

import json
import math
from typing import IO, Any

from django.conf import settings
from rest_framework import exceptions, parsers

from billing_site.core.json_limits import MAX_JSON_DEPTH, json_too_deep


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"the number {text[:40]} is out of range")
    return number


def body_read(stream: IO[bytes] | None, *, limit: int) -> bytes:
    """At most `limit` bytes of the body; PayloadTooLarge if there is more."""
    if stream is None:
        return b""
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
    return body


class SafeJSONParser(parsers.JSONParser):
    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: dict[str, Any] | None = None,
    ) -> Any:
        body = body_read(stream, limit=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        if json_too_deep(body):
            raise exceptions.ParseError(
                f"JSON parse error - nested more than {MAX_JSON_DEPTH} levels deep."
            )
        try:
            data = json.loads(
                body.decode("utf-8"),
                parse_constant=_refuse_constant,
                parse_float=_finite_float,
            )
        except (ValueError, RecursionError) as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
        return data
