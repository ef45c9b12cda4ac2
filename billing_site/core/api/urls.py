from django.urls import path

from billing_site.core.api.views import ApiKeyWhoAmIApi

urlpatterns = [
    path("whoami", ApiKeyWhoAmIApi.as_view(), name="whoami"),
]
