"""The audit log: every write that moves money or access leaves a row in the same transaction."""

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models

from billing_site.core.models import AuditLogEntry


def actor_label(actor: Any) -> str:
    if actor is None:
        return "system"
    if hasattr(actor, "get_username"):
        return actor.get_username()
    return str(actor)


def actor_user(actor: Any) -> Any:
    """The actor when it is a user (for foreign keys); API keys and the system are recorded by
    label only."""
    return actor if isinstance(actor, get_user_model()) else None


def jsonable(value: Any) -> Any:
    """A value as the audit log stores it (Decimals exactly and datetimes as text, models by pk)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def audit_log_write(
    *,
    actor: Any,
    action: str,
    obj: models.Model,
    changes: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditLogEntry:
    """Record `action` on `obj`; `actor` is a user, an API key or None for the system."""
    return AuditLogEntry.objects.create(
        actor=actor_user(actor),
        actor_label=actor_label(actor)[:150],
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        changes=jsonable(changes or {}),
        reason=reason,
    )
