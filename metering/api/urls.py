from django.urls import include, path

urlpatterns: list = [
    path("", include("metering.api.usage_urls")),
]
