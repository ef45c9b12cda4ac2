from django.urls import path

from credits.api.views import CreditBalanceApi

urlpatterns = [
    path("customers/<str:customer_id>/credits", CreditBalanceApi.as_view(), name="credits"),
]
