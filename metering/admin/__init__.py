"""Metering in the admin: billable metrics, and read-only views of what ingest stored or refused."""

from metering.admin import events, ingest, metrics  # noqa: F401  (registers the model admins)
from metering.admin._common import CappedCountPaginator, ReadOnlyAdmin

__all__ = ["CappedCountPaginator", "ReadOnlyAdmin"]
