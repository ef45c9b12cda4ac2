from django.urls import path

from invoices.api.coupons import CustomerCouponApplyApi
from invoices.api.one_off_views import OneOffInvoiceCreateApi
from invoices.api.views import (
    CustomerCurrentUsageApi,
    InvoiceDetailApi,
    InvoiceListApi,
    SubscriptionUpcomingInvoiceApi,
)

urlpatterns = [
    path("invoices", InvoiceListApi.as_view(), name="invoices"),
    path("invoices/one_off", OneOffInvoiceCreateApi.as_view(), name="invoices-one-off"),
    path("invoices/<int:invoice_id>", InvoiceDetailApi.as_view(), name="invoice"),
    path(
        "customers/<str:external_id>/current_usage",
        CustomerCurrentUsageApi.as_view(),
        name="customer-current-usage",
    ),
    path(
        "customers/<str:external_id>/coupons",
        CustomerCouponApplyApi.as_view(),
        name="customer-coupons",
    ),
    path(
        "subscriptions/<str:external_id>/upcoming_invoice",
        SubscriptionUpcomingInvoiceApi.as_view(),
        name="subscription-upcoming-invoice",
    ),
]
