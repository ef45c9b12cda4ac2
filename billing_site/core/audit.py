"""The audit log: every write that moves money or access leaves a row in the same transaction."""

from typing import Any

from django.db import models

from billing_site.core.models import AuditLogEntry


def actor_label(actor: Any) -> str:
    if actor is None:
        return "system"
    if hasattr(actor, "get_username"):
        return actor.get_username()
    return str(actor)


def audit_log_write(
    *,
    actor: Any,
    action: str,
    obj: models.Model,
    changes: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditLogEntry:
    """Record `action` on `obj`; `actor` is a user, an API key or None for the system."""
    user = actor if getattr(actor, "_meta", None) and actor._meta.label == "auth.User" else None
    return AuditLogEntry.objects.create(
        actor=user,
        actor_label=actor_label(actor)[:150],
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        changes=changes or {},
        reason=reason,
    )
