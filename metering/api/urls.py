from django.urls import include, path

from metering.api.ingest_views import (
    UsageEventBatchIngestApi,
    UsageEventIngestApi,
    UsageEventLookupApi,
)

urlpatterns: list = [
    path("events", UsageEventIngestApi.as_view(), name="events-ingest"),
    path("events/batch", UsageEventBatchIngestApi.as_view(), name="events-batch-ingest"),
    path("events/lookup", UsageEventLookupApi.as_view(), name="events-lookup"),
    path("", include("metering.api.usage_urls")),
]
