"""E-mail: Django's e-mail framework, configured from the environment.

Without ``EMAIL_BACKEND`` messages go to the console (the worker's log), so a fresh machine needs
no mail server; set ``EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend`` and the
``EMAIL_HOST*`` variables to send through SMTP.
"""

import environ

_env = environ.Env()

EMAIL_BACKEND = _env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = _env("EMAIL_HOST", default="localhost")
EMAIL_PORT = _env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = _env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = _env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = _env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = _env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = _env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = _env("DEFAULT_FROM_EMAIL", default="billing@localhost")
# The sender of invoice e-mails; replies go to REPLY_TO when set.
INVOICE_EMAIL_FROM = _env("INVOICE_EMAIL_FROM", default=DEFAULT_FROM_EMAIL)
INVOICE_EMAIL_REPLY_TO = _env.list("INVOICE_EMAIL_REPLY_TO", default=[])
