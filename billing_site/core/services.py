"""Writes of the core app: API keys."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from billing_site.core.audit import audit_log_write
from billing_site.core.models import ApiKey, ApiRequestLog
from billing_site.core.scopes import SCOPES

KEY_PREFIX = "bk"


def api_key_hash(secret: str) -> str:
    # Keys are 256-bit random strings, so a fast hash is as strong as a slow one here and keeps
    # authentication off the hot path's budget.
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_parse(raw_key: str) -> tuple[str, str] | None:
    """Split `bk_<prefix>_<secret>` into (prefix, secret); None when it is not of that form."""
    parts = raw_key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def api_key_matches(api_key: ApiKey, secret: str) -> bool:
    return hmac.compare_digest(api_key.secret_hash, api_key_hash(secret))


@transaction.atomic
def api_key_create(
    *,
    name: str,
    scopes: list[str],
    created_by: AbstractBaseUser | None = None,
    throttle_rate: str = "",
) -> tuple[ApiKey, str]:
    """Create a key; returns it with the full secret key, which is never retrievable again."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ValidationError({"scopes": [f"Unknown scope(s): {', '.join(unknown)}."]})
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    api_key = ApiKey(
        name=name,
        prefix=prefix,
        secret_hash=api_key_hash(secret),
        scopes=sorted(set(scopes)),
        throttle_rate=throttle_rate,
        created_by=created_by,
    )
    api_key.full_clean()
    api_key.save()
    audit_log_write(
        actor=created_by,
        action="api_key.created",
        obj=api_key,
        changes={"scopes": api_key.scopes},
    )
    return api_key, f"{KEY_PREFIX}_{prefix}_{secret}"


@transaction.atomic
def api_key_update(
    *,
    api_key: ApiKey,
    actor: AbstractBaseUser | None,
    name: str,
    scopes: list[str],
    throttle_rate: str,
) -> ApiKey:
    """Change a key's name, scopes or rate; a change of access (scopes, rate) is audited with
    the values before and after."""
    locked = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ValidationError({"scopes": [f"Unknown scope(s): {', '.join(unknown)}."]})
    new = {"name": name, "scopes": sorted(set(scopes)), "throttle_rate": throttle_rate}
    changes = {
        field: {"old": getattr(locked, field), "new": value}
        for field, value in new.items()
        if getattr(locked, field) != value
    }
    if not changes:
        return locked
    for field, value in new.items():
        setattr(locked, field, value)
    locked.full_clean()
    locked.save(update_fields=list(changes))
    if set(changes) - {"name"}:
        audit_log_write(actor=actor, action="api_key.changed", obj=locked, changes=changes)
    return locked


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, actor: AbstractBaseUser | None, reason: str = "") -> ApiKey:
    """Revoke a key for good; revoking twice keeps the first revocation time."""
    locked = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        audit_log_write(actor=actor, action="api_key.revoked", obj=locked, reason=reason)
    return locked


def api_key_touch(*, api_key: ApiKey) -> None:
    """Record use at most once a minute, so authentication costs no write on most requests."""
    now = timezone.now()
    if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now


def api_request_log_prune(*, retention_days: int, batch_size: int = 10_000) -> int:
    """Delete API log rows older than ``retention_days``, in batches so that no statement holds
    locks for long; safe to run twice. Returns how many rows were deleted."""
    if retention_days < 1:
        raise ValidationError({"retention_days": "Keep the API log for at least one day."})
    cutoff = timezone.now() - timedelta(days=retention_days)
    deleted = 0
    while True:
        ids = list(
            ApiRequestLog.objects.filter(created_at__lt=cutoff)
            .order_by("created_at")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return deleted
        deleted += ApiRequestLog.objects.filter(pk__in=ids).delete()[0]
