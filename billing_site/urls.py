from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from billing_site.core.health import healthz
from invoices.api.stripe_views import StripeWebhookApi

admin.site.site_header = "Billing — operations"
admin.site.site_title = "Billing admin"
admin.site.index_title = "Metering, plans, credits and invoices"

api_v1 = [
    path("", include("billing_site.core.api.urls")),
    path("", include("metering.api.urls")),
    path("", include("plans.api.urls")),
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

handler404 = "billing_site.core.api.errors.not_found_handler"
handler500 = "billing_site.core.api.errors.server_error_handler"
