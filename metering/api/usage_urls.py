from django.urls import path

from metering.api.usage_views import CustomerUsageGetApi

urlpatterns = [
    path("customers/<str:customer_id>/usage", CustomerUsageGetApi.as_view(), name="customer-usage"),
]
