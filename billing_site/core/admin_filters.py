"""List filters in the words of the thing filtered: "Revoked / Active", "Archived / Active",
rather than Django's "Empty / Not empty" over the timestamp column that records the change.

    list_filter = [set_or_not_filter("revoked_at", title="status", set_label="Revoked",
                                     unset_label="Active")]
"""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

SET, UNSET = "yes", "no"


class SetOrNotFilter(admin.SimpleListFilter):
    """Two choices over one nullable column: set (revoked, archived...) or not (active)."""

    field_name: str = ""
    set_label: str = ""
    unset_label: str = ""

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(UNSET, self.unset_label), (SET, self.set_label)]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == SET:
            return queryset.filter(**{f"{self.field_name}__isnull": False})
        if self.value() == UNSET:
            return queryset.filter(**{f"{self.field_name}__isnull": True})
        return queryset


def set_or_not_filter(
    field_name: str, *, title: str, set_label: str, unset_label: str = "Active"
) -> type[SetOrNotFilter]:
    """A `SetOrNotFilter` class for `field_name`; its URL parameter is the word (`?status=no`)."""
    attrs: dict[str, Any] = {
        "title": title,
        "parameter_name": title.replace(" ", "_"),
        "field_name": field_name,
        "set_label": set_label,
        "unset_label": unset_label,
    }
    return type(f"{field_name.title().replace('_', '')}Filter", (SetOrNotFilter,), attrs)
