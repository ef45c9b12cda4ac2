"""Writes of the metering app: billable metrics and usage event ingest."""

from metering.ingest.parsing import MetricSpec
from metering.services.ingest import (
    EventOutcome,
    IngestResult,
    Outcome,
    ingest_listener_register,
    usage_events_ingest,
    usage_events_record,
)
from metering.services.metrics import (
    billable_metric_archive,
    billable_metric_create,
    billable_metric_delete,
    billable_metric_unarchive,
    billable_metric_update,
    metric_usage_check_register,
    metric_usage_described,
    metric_usage_description_register,
    metric_used_by,
)

__all__ = [
    "MetricSpec",
    "EventOutcome",
    "IngestResult",
    "Outcome",
    "billable_metric_archive",
    "billable_metric_create",
    "billable_metric_delete",
    "billable_metric_unarchive",
    "billable_metric_update",
    "ingest_listener_register",
    "metric_usage_check_register",
    "metric_usage_described",
    "metric_usage_description_register",
    "metric_used_by",
    "usage_events_ingest",
    "usage_events_record",
]
