from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from billing_site.core.health import healthz
from invoices.api.stripe_views import StripeWebhookApi

# The hot paths first: Django tries the patterns in order, and services call the entitlement
# check and consume, then ingest, far more often than anything else.
api_v1 = [
    path("", include("entitlements.api.urls")),
    path("", include("metering.api.urls")),
    path("", include("billing_site.core.api.urls")),
    path("", include("plans.api.urls")),
    path("", include("credits.api.urls")),
    path("", include("invoices.api.urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("stripe/webhook", StripeWebhookApi.as_view(), name="stripe-webhook"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]

handler400 = "billing_site.core.api.errors.bad_request_handler"
handler403 = "billing_site.core.forbidden.permission_denied_handler"
handler404 = "billing_site.core.api.errors.not_found_handler"
handler500 = "billing_site.core.api.errors.server_error_handler"
