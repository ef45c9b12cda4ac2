from billing_site.core.models import ApiKey
from billing_site.core.sql import API_KEY_BY_PREFIX, prepared_fetchone

_API_KEY_COLUMNS = (
    "id",
    "name",
    "prefix",
    "secret_hash",
    "scopes",
    "throttle_rate",
    "created_at",
    "created_by_id",
    "last_used_at",
    "revoked_at",
)


def api_key_get_by_prefix(*, prefix: str) -> ApiKey | None:
    """The key with this prefix, read by one prepared statement: every API request asks."""
    row = prepared_fetchone(API_KEY_BY_PREFIX, {"prefix": prefix})
    if row is None:
        return None
    return ApiKey.from_db("default", list(_API_KEY_COLUMNS), list(row))
