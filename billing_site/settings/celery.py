"""Celery: a real broker from CELERY_BROKER_URL, else kombu's filesystem transport under .data/."""

from pathlib import Path

import environ

_env = environ.Env()
_BROKER_DIR = Path(__file__).resolve().parent.parent.parent / ".data" / "broker"

CELERY_BROKER_URL = _env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "queue"),
        "data_folder_out": str(_BROKER_DIR / "queue"),
        "processed_folder": str(_BROKER_DIR / "processed"),
        "store_processed": False,
        "control_folder": str(_BROKER_DIR / "control"),
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# The periodic tasks, declared here and synced into django-celery-beat by
# `manage.py setup_periodic_tasks` (update by name; entries not listed here are left alone).
BEAT_SCHEDULE = {
    "metering.rollups_refresh": {
        "task": "metering.rollups_refresh",
        # https://crontab.guru/#*_*_*_*_*
        "crontab": {"minute": "*"},
        "description": "Fold newly stored events into the daily usage rollups (count/sum/max).",
    },
    "metering.activity_prune": {
        "task": "metering.activity_prune",
        # https://crontab.guru/#17_*_*_*_*
        "crontab": {"minute": "17"},
        "description": "Delete the per-minute event counts older than two days (the dashboard "
        "charts the last 24 hours).",
    },
    "credits.grants_expire": {
        "task": "credits.grants_expire",
        # https://crontab.guru/#*/5_*_*_*_*
        "crontab": {"minute": "*/5"},
        "description": "Write expire rows for what is left of credit grants past their expiry.",
    },
    "credits.refills_due": {
        "task": "credits.refills_due",
        # https://crontab.guru/#7_*_*_*_*
        "crontab": {"minute": "7"},
        "description": "Grant owed plan credits and refills (a safety net: period changes grant "
        "them at once).",
    },
    "entitlements.counters_refresh": {
        "task": "entitlements.counters_refresh",
        # https://crontab.guru/#*_*_*_*_*
        "crontab": {"minute": "*"},
        "description": "Recompute usage counters made stale by directly ingested events and "
        "fire the usage alerts they cross.",
    },
    "entitlements.holds_expire": {
        "task": "entitlements.holds_expire",
        # https://crontab.guru/#*/5_*_*_*_*
        "crontab": {"minute": "*/5"},
        "description": "Close entitlement holds past their time to live.",
    },
    "invoices.bill_due": {
        "task": "invoices.bill_due",
        # https://crontab.guru/#*_*_*_*_*
        "crontab": {"minute": "*"},
        "description": "Bill subscriptions whose period ended or whose in-advance fee is due.",
    },
    "invoices.finalize_due": {
        "task": "invoices.finalize_due",
        # https://crontab.guru/#*_*_*_*_*
        "crontab": {"minute": "*"},
        "description": "Finalize draft invoices whose grace period ended.",
    },
    "invoices.refresh_drafts": {
        "task": "invoices.refresh_drafts",
        # https://crontab.guru/#*/5_*_*_*_*
        "crontab": {"minute": "*/5"},
        "description": "Recompute draft invoices that late events of their period reached.",
    },
    "invoices.stripe_retry": {
        "task": "invoices.stripe_retry",
        # https://crontab.guru/#*/10_*_*_*_*
        "crontab": {"minute": "*/10"},
        "description": "Push again finalized invoices whose Stripe push failed.",
    },
    "invoices.advance_fees_create": {
        "task": "invoices.advance_fees_create",
        # https://crontab.guru/#*_*_*_*_*
        "crontab": {"minute": "*"},
        "description": "Create the fees of pay-in-advance charges for newly stored events.",
    },
    "invoices.advance_fees_invoice": {
        "task": "invoices.advance_fees_invoice",
        # https://crontab.guru/#*/5_*_*_*_*
        "crontab": {"minute": "*/5"},
        "description": "Group pay-in-advance fees not yet invoiced onto a fee invoice per "
        "customer.",
    },
    "core.sessions_clear_expired": {
        "task": "core.sessions_clear_expired",
        # https://crontab.guru/#15_3_*_*_*
        "crontab": {"minute": "15", "hour": "3"},
        "description": "Delete expired admin sessions.",
    },
    "core.api_request_log_prune": {
        "task": "core.api_request_log_prune",
        # https://crontab.guru/#40_3_*_*_*
        "crontab": {"minute": "40", "hour": "3"},
        "description": "Delete API log rows older than API_LOG_RETENTION_DAYS.",
    },
}
