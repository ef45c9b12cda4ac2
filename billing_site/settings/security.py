"""Admin login lockout (django-axes, its state in PostgreSQL) and the admin's
Content-Security-Policy."""

from datetime import timedelta

import environ

_env = environ.Env()

AUTHENTICATION_BACKENDS = [
    # First, so a locked-out login is refused before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# After 5 failed logins for one user name from one address, that pair is locked out for 15
# minutes (each further try answers 429); a successful login clears the count.
AXES_FAILURE_LIMIT = _env.int("ADMIN_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=_env.int("ADMIN_LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_VERBOSE = False

# Sent on every admin page by billing_site.core.middleware.AdminSecurityHeadersMiddleware. The
# admin loads scripts only from its own static files; styles may be inline (admin widgets set
# them).
ADMIN_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
