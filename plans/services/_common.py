"""Helpers shared by the catalog's services."""

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.db import models

from billing_site.core.exceptions import ConflictError
from plans.models import PlanVersion

M = TypeVar("M", bound=models.Model)


def jsonable(value: Any) -> Any:
    """A value as the audit log stores it (Decimals and datetimes as text, models by pk)."""
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


def model_update(
    *, instance: M, fields: Iterable[str], data: Mapping[str, Any]
) -> tuple[M, dict[str, dict[str, Any]]]:
    """Set the ``fields`` present in ``data``, full_clean and save the ones that changed.

    Returns the instance and ``{field: {"old", "new"}}`` of what changed (for the audit row).
    """
    changes: dict[str, dict[str, Any]] = {}
    for field in fields:
        if field not in data:
            continue
        old, new = getattr(instance, field), data[field]
        if old != new:
            setattr(instance, field, new)
            changes[field] = {"old": jsonable(old), "new": jsonable(new)}
    if changes:
        instance.full_clean()
        instance.save()
    return instance, changes


def user_or_none(actor: Any) -> Any:
    """The actor when it is a user (for FKs); API keys and the system are recorded by label."""
    return actor if isinstance(actor, get_user_model()) else None


def ensure_draft(version: PlanVersion) -> None:
    """Published and archived versions are immutable; editing means a new draft version."""
    if version.status != PlanVersion.Status.DRAFT:
        raise ConflictError(
            f"Version {version.number} of plan {version.plan.code!r} is {version.status} and "
            "cannot be changed; create a new draft from it instead.",
            code="version_published",
        )


def draft_locked(version: PlanVersion) -> PlanVersion:
    """Lock the version's row and check, on the current row, that it is still a draft."""
    locked = PlanVersion.objects.select_for_update().select_related("plan").get(pk=version.pk)
    ensure_draft(locked)
    return locked
