"""limit/offset pagination: ``{"count", "limit", "offset", "results"}``, for every list endpoint.

Both are bounded: `limit` to MAX_LIMIT, `offset` to MAX_OFFSET (an offset past any real list,
small enough for PostgreSQL's bigint OFFSET and for a scan to stay cheap).
"""

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_OFFSET = 1_000_000


class PageInputSerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT)
    offset = serializers.IntegerField(min_value=0, max_value=MAX_OFFSET, default=0)


def page(
    queryset: QuerySet, *, limit: int, offset: int, render: Callable[[list[Any]], Any]
) -> dict[str, Any]:
    items = list(queryset[offset : offset + limit])
    return {"count": queryset.count(), "limit": limit, "offset": offset, "results": render(items)}
