"""The API request log: a middleware that records each /api/v1/ request after it is answered.

Recording must never fail or slow a request: one prepared INSERT, outside any transaction of
the view, run when the server closes the response, that is once the client has its answer (WSGI
servers close every response they send, Django's test client too), and a database error is
logged instead of raised.
"""

import functools
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from psycopg.types.json import Jsonb

from billing_site.core.models import ApiKey
from billing_site.core.sql import API_REQUEST_LOG_INSERT, prepared_fetchone

logger = logging.getLogger("billing_site.api")

LOGGED_PREFIX = "/api/v1/"
ERROR_BODY_LIMIT = 4096  # bytes of an error response kept; larger ones are cut


def _text(value: str, limit: int = 500) -> str:
    # PostgreSQL text cannot hold NUL, and a request path may carry one.
    return value[:limit].replace("\x00", "\ufffd")


def _error_details(response: HttpResponse) -> tuple[str, Any]:
    content = bytes(getattr(response, "content", b""))[:ERROR_BODY_LIMIT]
    text = _text(content.decode("utf-8", "replace"), ERROR_BODY_LIMIT)
    try:
        body = json.loads(text.replace("\\u0000", "\\ufffd"))
    except ValueError:
        return "", {"text": text}
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code", "") if isinstance(error, dict) else ""
    return _text(str(code), 60), body


class ApiRequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.enabled = getattr(settings, "API_REQUEST_LOG_ENABLED", True)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self.enabled or not request.path.startswith(LOGGED_PREFIX):
            return self.get_response(request)
        started = time.perf_counter()
        response = self.get_response(request)
        duration_us = int((time.perf_counter() - started) * 1_000_000)
        # Run first when the response closes (before Django's request_finished receivers, which
        # may close the database connection).
        response._resource_closers.insert(
            0, functools.partial(self._record, request, response, duration_us)
        )
        return response

    def _record(self, request: HttpRequest, response: HttpResponse, duration_us: int) -> None:
        api_key = getattr(request, "auth", None)
        error_code, error_body = ("", None)
        if response.status_code >= 400:
            error_code, error_body = _error_details(response)
        try:
            prepared_fetchone(
                API_REQUEST_LOG_INSERT,
                {
                    "created_at": timezone.now(),
                    "api_key_id": api_key.pk if isinstance(api_key, ApiKey) else None,
                    "method": _text(request.method or "", 10),
                    "path": _text(request.path),
                    "query": _text(request.META.get("QUERY_STRING", "")),
                    "status_code": response.status_code,
                    "duration_us": min(duration_us, 2**31 - 1),
                    "error_code": error_code,
                    "error_body": None if error_body is None else Jsonb(error_body),
                },
            )
        except Exception:  # Django's close() would swallow it unseen
            logger.warning("api request log not written", exc_info=True)
