"""Stripe: reached only through invoices/stripe_gateway.py, which reads these settings."""

import environ

_env = environ.Env()

STRIPE_SECRET_KEY = _env("STRIPE_SECRET_KEY", default="")
# Points the client at localstripe in tests and local runs; empty means Stripe's own API.
STRIPE_API_BASE = _env("STRIPE_API_BASE", default="")
STRIPE_WEBHOOK_SECRET = _env("STRIPE_WEBHOOK_SECRET", default="")
