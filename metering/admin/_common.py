"""Shared pieces of metering's admin: stored JSON read safely, read-only lists, capped counts."""

import json
from functools import cached_property
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import ShowFacets
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString

from billing_site.core.json_limits import json_too_deep

# Stored JSON is read as text (`json_text`), never decoded by the database driver: an event
# stored before ingest bounded nesting may be hundreds of levels deep, which Python's decoder
# cannot take. Text is decoded here only when shallow enough, and always shown escaped and cut.
PREVIEW_DAYS = 30
MAX_SHOWN_CHARS = 16 * 1024
MAX_SHORT_CHARS = 60
MAX_DECODED_DEPTH = 200


def decoded(text: str | None) -> object:
    """The JSON value of `text`, or the text itself when too deep to decode safely."""
    if text is None:
        return None
    if json_too_deep(text.encode(), limit=MAX_DECODED_DEPTH):
        return text
    return json.loads(text)


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def pretty_json(text: str | None) -> SafeString:
    value = decoded(text)
    if value in (None, {}, []):
        return format_html('<span class="quiet">{}</span>', "—")
    if isinstance(value, str):
        shown = f"(nested more than {MAX_DECODED_DEPTH} levels; shown as stored)\n{value}"
    else:
        shown = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return format_html(
        '<pre style="margin:0;white-space:pre-wrap">{}</pre>', cut(shown, MAX_SHOWN_CHARS)
    )


def json_as_text(queryset: QuerySet, field: str) -> QuerySet:
    return queryset.defer(field).annotate(**{f"{field}_text": Cast(field, TextField())})


def events_url(**params: str) -> str:
    return f"{reverse('admin:metering_event_changelist')}?{urlencode(params)}"


class ReadOnlyAdmin(admin.ModelAdmin):
    """A view-only admin: rows are written by ingest and the catalog, never by hand."""

    actions = None
    show_facets = ShowFacets.NEVER

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CappedCountPaginator(Paginator):
    """Counts at most `cap + 1` rows (`SELECT count(*) FROM (SELECT ... LIMIT cap + 1)`), so a
    page costs the same on ten rows or ten million; pages beyond the cap are reached by
    narrowing the filters. Unfiltered, the label adds the planner's estimate of the table size.
    """

    cap = 10_000

    @cached_property
    def count(self) -> int:
        # The page's ordering is kept in the counted subquery, so the count reads what paging
        # to the last capped page would (newest first through the primary key, say).
        return self.object_list[: self.cap + 1].count()

    @property
    def is_capped(self) -> bool:
        return self.count > self.cap

    @cached_property
    def estimated_total(self) -> int | None:
        """The table's row estimate from the planner's statistics when nothing is filtered."""
        query = self.object_list.query
        if query.where or not self.is_capped:
            return None
        with connections[self.object_list.db].cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                [query.model._meta.db_table],
            )
            row = cursor.fetchone()
        return row[0] if row and row[0] > self.cap else None

    @property
    def count_label(self) -> str:
        if not self.is_capped:
            return f"{self.count:,}"
        if self.estimated_total:
            return f"about {self.estimated_total:,}"
        return f"more than {self.cap:,}"
