"""Helpers shared by the catalog's services."""

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from django.db import models

from billing_site.core.audit import jsonable
from billing_site.core.exceptions import ConflictError
from plans.models import PlanVersion

M = TypeVar("M", bound=models.Model)


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
