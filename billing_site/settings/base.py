"""Settings shared by every environment; values come from the environment through one `env`.

Integration settings live in one module each (celery, drf, stripe, logging) and are imported
at the end of this file.
"""

from pathlib import Path

import environ

from billing_site import embedded

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = BASE_DIR / ".data"

env = environ.Env()

SECRET_KEY = env("SECRET_KEY")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "billing_site.core.admin_site.BillingAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "billing_site.core",
    "metering",
    "plans",
    "credits",
    "entitlements",
    "invoices",
    "dashboard",
]

MIDDLEWARE = [
    "billing_site.core.request_log.ApiRequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "billing_site.core.api.middleware.ApiInputGuardMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "billing_site.core.middleware.AdminSecurityHeadersMiddleware",
    # Last, as django-axes asks: it turns a lockout into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

# Developers → API log: every /api/v1/ request is recorded, and pruned after this many days.
API_REQUEST_LOG_ENABLED = env.bool("API_REQUEST_LOG_ENABLED", default=True)
API_LOG_RETENTION_DAYS = env.int("API_LOG_RETENTION_DAYS", default=30)

ROOT_URLCONF = "billing_site.urls"
WSGI_APPLICATION = "billing_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# PostgreSQL is the one database. Without DATABASE_URL the embedded server under .data/ is used
# (started by `make run` / `make test`, see billing_site/embedded.py).
DATABASES = {
    "default": env.db_url("DATABASE_URL")
    if env("DATABASE_URL", default="")
    else embedded.django_database(),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Django turns psycopg's server-side prepared statements off (for transaction-mode poolers), which
# also ignores ``prepare=True``: the entitlement check's statement was then planned on every call
# (~2.5 ms of planning for ~0.9 ms of execution). A threshold no statement reaches by repetition
# prepares only what asks for it (``billing_site.core.sql.prepared_fetchone``); set
# DB_PREPARED_STATEMENTS=false behind a pooler that cannot keep them (PgBouncer before 1.21).
if env.bool("DB_PREPARED_STATEMENTS", default=True):
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 2**31 - 1
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache (and so API throttling): Redis when REDIS_URL is given, else the database, which every
# process shares, so throttling still holds across gunicorn workers.
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="billing"),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "core_cache",
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
FORMAT_MODULE_PATH = ["billing_site.formats"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

LOGIN_URL = "admin:login"

from billing_site.settings.celery import *  # noqa: E402,F403
from billing_site.settings.drf import *  # noqa: E402,F403
from billing_site.settings.email import *  # noqa: E402,F403
from billing_site.settings.logging import *  # noqa: E402,F403
from billing_site.settings.security import *  # noqa: E402,F403
from billing_site.settings.stripe import *  # noqa: E402,F403
