"""Production settings: every secret must come from the environment; nothing falls back."""

from django.core.exceptions import ImproperlyConfigured

from billing_site.settings.base import *  # noqa: F403
from billing_site.settings.base import SECRET_KEY, STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET

_PLACEHOLDER_MARKERS = ("not-a-secret", "changeme", "insecure")

if len(SECRET_KEY) < 32 or any(marker in SECRET_KEY for marker in _PLACEHOLDER_MARKERS):
    raise ImproperlyConfigured(
        "SECRET_KEY must be a real secret of at least 32 characters in production."
    )
for _name, _value in (
    ("STRIPE_SECRET_KEY", STRIPE_SECRET_KEY),
    ("STRIPE_WEBHOOK_SECRET", STRIPE_WEBHOOK_SECRET),
):
    if not _value:
        raise ImproperlyConfigured(f"{_name} must be set in production.")

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)  # noqa: F405
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)  # noqa: F405
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
