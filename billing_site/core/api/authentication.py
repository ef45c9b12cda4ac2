from rest_framework import authentication, exceptions
from rest_framework.request import Request

from billing_site.core.models import ApiKey
from billing_site.core.selectors import api_key_get_by_prefix
from billing_site.core.services import api_key_matches, api_key_parse, api_key_touch


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer bk_<prefix>_<secret>`."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[ApiKey, ApiKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _, raw_key = header.partition(" ")
        if keyword != self.keyword or not raw_key.strip():
            raise exceptions.AuthenticationFailed(
                "Send the API key as 'Authorization: Bearer <key>'.", code="unauthenticated"
            )
        parsed = api_key_parse(raw_key.strip())
        api_key = api_key_get_by_prefix(prefix=parsed[0]) if parsed else None
        if api_key is None or not api_key_matches(api_key, parsed[1]):
            raise exceptions.AuthenticationFailed("Unknown API key.", code="unauthenticated")
        if api_key.is_revoked:
            raise exceptions.AuthenticationFailed(
                "This API key was revoked.", code="api_key_revoked"
            )
        api_key_touch(api_key=api_key)
        return api_key, api_key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
