from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from billing_site.core.models import ApiKey

if TYPE_CHECKING:
    from rest_framework.views import APIView

logger = logging.getLogger("billing_site.api")


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Rate limit per API key, kept in the shared cache; a key may carry its own rate."""

    scope = "api_key"

    def allow_request(self, request: Request, view: APIView) -> bool:
        api_key = request.auth
        if isinstance(api_key, ApiKey) and api_key.throttle_rate:
            try:
                self.num_requests, self.duration = self.parse_rate(api_key.throttle_rate)
                self.rate = api_key.throttle_rate
            except (ValueError, KeyError, TypeError):
                # Rates are validated when saved, but a row stored before that (or by hand) must
                # never fail the key's requests: it gets the default rate, and the operator a log.
                logger.warning(
                    "API key has an invalid rate; using the default",
                    extra={"api_key": api_key.prefix, "rate": api_key.throttle_rate},
                )
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": api_key.prefix}
