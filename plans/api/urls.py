from django.urls import path

from plans.api.routing import routed
from plans.api.views.catalog import PlanDetailApi, PlanListApi, PricingQuoteApi
from plans.api.views.customers import (
    CustomerArchiveApi,
    CustomerCreateApi,
    CustomerDetailApi,
    CustomerListApi,
    CustomerMembersSetApi,
    CustomerUpdateApi,
)
from plans.api.views.overrides import (
    SubscriptionOverrideCreateApi,
    SubscriptionOverrideEndApi,
    SubscriptionOverrideListApi,
)
from plans.api.views.subscriptions import (
    SubscriptionCancelApi,
    SubscriptionChangePlanApi,
    SubscriptionCreateApi,
    SubscriptionDetailApi,
    SubscriptionListApi,
)

CustomersApi = routed("CustomersApi", GET=CustomerListApi, POST=CustomerCreateApi)
CustomerApi = routed("CustomerApi", GET=CustomerDetailApi, PATCH=CustomerUpdateApi)
SubscriptionsApi = routed("SubscriptionsApi", GET=SubscriptionListApi, POST=SubscriptionCreateApi)
SubscriptionOverridesApi = routed(
    "SubscriptionOverridesApi", GET=SubscriptionOverrideListApi, POST=SubscriptionOverrideCreateApi
)

urlpatterns = [
    path("customers", CustomersApi.as_view(), name="customers"),
    path("customers/<str:external_id>", CustomerApi.as_view(), name="customer"),
    path(
        "customers/<str:external_id>/archive",
        CustomerArchiveApi.as_view(),
        name="customer-archive",
    ),
    path(
        "customers/<str:external_id>/members",
        CustomerMembersSetApi.as_view(),
        name="customer-members",
    ),
    path("plans", PlanListApi.as_view(), name="plans"),
    path("plans/<str:code>", PlanDetailApi.as_view(), name="plan"),
    path("pricing/quote", PricingQuoteApi.as_view(), name="pricing-quote"),
    path("subscriptions", SubscriptionsApi.as_view(), name="subscriptions"),
    path("subscriptions/<str:external_id>", SubscriptionDetailApi.as_view(), name="subscription"),
    path(
        "subscriptions/<str:external_id>/cancel",
        SubscriptionCancelApi.as_view(),
        name="subscription-cancel",
    ),
    path(
        "subscriptions/<str:external_id>/change-plan",
        SubscriptionChangePlanApi.as_view(),
        name="subscription-change-plan",
    ),
    path(
        "subscriptions/<str:external_id>/overrides",
        SubscriptionOverridesApi.as_view(),
        name="subscription-overrides",
    ),
    path(
        "subscriptions/<str:external_id>/overrides/<int:override_id>/end",
        SubscriptionOverrideEndApi.as_view(),
        name="subscription-override-end",
    ),
]
