"""A subscription's own page: cancel (at period end or now), revoke a cancellation, and move it
to another version, each a button that opens a confirmation, as the list's actions do for many.

The cancellations reuse the list's confirmed actions (same question, reason and audit row) on a
queryset of the one subscription; the move reuses ``migration_flow`` with that subscription."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, reverse

from billing_site.core.admin_views import admin_path
from plans.admin.migration import migration_flow
from plans.models import Subscription

LIVE = (Subscription.Status.TRIALING, Subscription.Status.ACTIVE)
CHANGE_PERMISSION = "plans.change_subscription"

# url name suffix -> (button label, the list action it runs on this one subscription)
CANCEL_ACTIONS: dict[str, tuple[str, str]] = {
    "cancel_at_period_end": ("Cancel at period end…", "cancel_at_period_end_selected"),
    "cancel_now": ("Cancel now…", "cancel_now_selected"),
    "revoke_cancellation": ("Revoke cancellation…", "revoke_cancellation_selected"),
}


def _url(name: str, subscription_id: Any) -> str:
    return reverse(f"admin:plans_subscription_{name}", args=[subscription_id])


def object_tools(request: HttpRequest, subscription: Subscription) -> list[dict]:
    """The buttons a subscription's page shows: only what its state allows and the user may do."""
    if subscription.status not in LIVE or not request.user.has_perm(CHANGE_PERMISSION):
        return []
    names = ["revoke_cancellation"] if subscription.cancel_at_period_end else []
    if not subscription.cancel_at_period_end:
        names.append("cancel_at_period_end")
    names.append("cancel_now")
    tools = [(name, CANCEL_ACTIONS[name][0]) for name in names]
    tools.append(("migrate", "Move to another version…"))
    return [
        {"id": name.replace("_", "-"), "label": label, "url": _url(name, subscription.pk)}
        for name, label in tools
    ]


def _subscription(modeladmin: Any, request: HttpRequest, object_id: str) -> Subscription:
    subscription = modeladmin.get_object(request, object_id)
    if subscription is None:
        raise Http404("No such subscription.")
    return subscription


def _cancel_view(modeladmin: Any, name: str) -> Callable[..., HttpResponse]:
    _, action = CANCEL_ACTIONS[name]

    def view(request: HttpRequest, object_id: str) -> HttpResponse:
        subscription = _subscription(modeladmin, request, object_id)
        back = HttpResponseRedirect(_url("change", subscription.pk))
        if subscription.status not in LIVE:
            text = f"{subscription} is {subscription.status}: nothing to change."
            modeladmin.message_user(request, text, messages.ERROR)
            return back
        queryset = Subscription.objects.filter(pk=subscription.pk).select_related(
            "customer", "version__plan"
        )
        response = getattr(modeladmin, action)(request, queryset)
        return response or back

    return view


def _migrate_view(modeladmin: Any) -> Callable[..., HttpResponse]:
    def view(request: HttpRequest, object_id: str) -> HttpResponse:
        subscription = _subscription(modeladmin, request, object_id)
        back = _url("change", subscription.pk)
        response = migration_flow(
            modeladmin,
            request,
            from_version=subscription.version,
            subscriptions=[subscription],
            hidden=[],
            back_url=back,
        )
        return response if response is not None else HttpResponseRedirect(back)

    return view


def object_urls(modeladmin: Any) -> list[URLPattern]:
    """The pages behind the buttons, each declared with the permission it needs."""
    urls = [
        admin_path(
            modeladmin,
            f"<path:object_id>/{name.replace('_', '-')}/",
            _cancel_view(modeladmin, name),
            name=f"plans_subscription_{name}",
            permission=CHANGE_PERMISSION,
        )
        for name in CANCEL_ACTIONS
    ]
    urls.append(
        admin_path(
            modeladmin,
            "<path:object_id>/migrate/",
            _migrate_view(modeladmin),
            name="plans_subscription_migrate",
            permission=CHANGE_PERMISSION,
        )
    )
    return urls
