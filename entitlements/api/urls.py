from django.urls import path

from entitlements.api.views import (
    EntitlementCheckApi,
    EntitlementConsumeApi,
    EntitlementListApi,
    HoldCommitApi,
    HoldReleaseApi,
    HoldReserveApi,
)

PREFIX = "customers/<str:customer_id>/entitlements"

urlpatterns = [
    path(PREFIX, EntitlementListApi.as_view(), name="entitlements"),
    path(f"{PREFIX}/<str:feature>", EntitlementCheckApi.as_view(), name="entitlement-check"),
    path(
        f"{PREFIX}/<str:feature>/consume",
        EntitlementConsumeApi.as_view(),
        name="entitlement-consume",
    ),
    path(f"{PREFIX}/<str:feature>/reserve", HoldReserveApi.as_view(), name="entitlement-reserve"),
    path(
        f"{PREFIX}/<str:feature>/holds/<str:hold_id>/commit",
        HoldCommitApi.as_view(),
        name="entitlement-hold-commit",
    ),
    path(
        f"{PREFIX}/<str:feature>/holds/<str:hold_id>/release",
        HoldReleaseApi.as_view(),
        name="entitlement-hold-release",
    ),
]
