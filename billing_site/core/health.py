"""/healthz: is the database reachable, is the broker reachable."""

import logging
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET
from kombu import Connection

logger = logging.getLogger(__name__)


def database_check() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any failure means "down"; the reason goes in the answer
        return str(exc).strip() or type(exc).__name__
    return None


def broker_check() -> str | None:
    url = settings.CELERY_BROKER_URL
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    if url.startswith("filesystem://"):
        folder = Path(options["data_folder_in"])
        return None if folder.is_dir() else f"broker folder {folder} does not exist"
    try:
        with Connection(url, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=3)
    except Exception as exc:  # any failure means "down"; the reason goes in the answer
        return str(exc).strip() or type(exc).__name__
    return None


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": database_check(), "broker": broker_check()}
    down = {name: reason for name, reason in checks.items() if reason}
    body = {
        "status": "ok" if not down else "degraded",
        "checks": {name: ("ok" if not reason else "down") for name, reason in checks.items()},
    }
    if down:
        body["errors"] = down
        logger.warning("health check degraded", extra={"down": down})
    return JsonResponse(body, status=503 if down else 200)
