"""Writes of the add-on catalog: each save validated and audited."""

from typing import Any

from django.db import transaction
from django.forms.models import model_to_dict

from billing_site.core.audit import audit_log_write
from invoices.models import AddOn

_FIELDS = ("code", "name", "amount", "currency", "description", "archived_at")


@transaction.atomic
def add_on_save(*, add_on: AddOn, actor: Any = None) -> AddOn:
    """Create or update an add-on. Issued invoices keep the price they were made with."""
    before = model_to_dict(AddOn.objects.get(pk=add_on.pk), fields=_FIELDS) if add_on.pk else {}
    add_on.full_clean()
    add_on.save()
    after = model_to_dict(add_on, fields=_FIELDS)
    changes = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
    audit_log_write(
        actor=actor,
        action="add_on.updated" if before else "add_on.created",
        obj=add_on,
        changes=changes,
    )
    return add_on
