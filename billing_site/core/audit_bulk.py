"""The audit log written in bulk: the rows ``audit_log_write`` would write one by one, in one
INSERT (a billing batch records hundreds of moves at once, in its own transaction)."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from billing_site.core.audit import actor_label, actor_user, jsonable
from billing_site.core.models import AuditLogEntry


@dataclass(frozen=True)
class AuditRecord:
    """One row to write: what ``audit_log_write`` takes as keyword arguments."""

    actor: Any
    action: str
    obj: models.Model
    changes: dict[str, Any] = field(default_factory=dict)
    reason: str = ""


def audit_log_write_many(records: Sequence[AuditRecord]) -> list[AuditLogEntry]:
    """Record every move of ``records`` in one statement, in the caller's transaction; the rows
    are those ``audit_log_write`` writes for the same arguments, in the same order."""
    return AuditLogEntry.objects.bulk_create(
        AuditLogEntry(
            actor=actor_user(record.actor),
            actor_label=actor_label(record.actor)[:150],
            action=record.action,
            object_type=record.obj._meta.label_lower,
            object_id=str(record.obj.pk),
            object_repr=str(record.obj)[:200],
            changes=jsonable(record.changes or {}),
            reason=record.reason,
        )
        for record in records
    )
