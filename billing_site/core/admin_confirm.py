"""Confirmation pages for admin actions that move money or access, styled on delete_selected."""

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse


def confirm_action(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    action: str,
    title: str,
    question: str,
    perform: Callable[[Any], None],
    items: Iterable[str] | None = None,
    details: Iterable[str] = (),
    ask_reason: bool = False,
) -> HttpResponse | None:
    """Show the confirmation page, or, when it was confirmed, call `perform(obj)` on each object.

    `perform` receives each object; a ValueError or ValidationError from it is shown as an error
    for that object and the others still go ahead.
    """
    if request.POST.get("post"):
        reason = request.POST.get("reason", "").strip()
        if ask_reason and not reason:
            modeladmin.message_user(request, "Give a reason.", messages.ERROR)
        else:
            done = 0
            for obj in queryset:
                try:
                    perform(obj, reason) if ask_reason else perform(obj)
                except Exception as exc:  # shown to the operator, per object
                    from django.core.exceptions import ValidationError

                    from billing_site.core.exceptions import ApplicationError

                    if not isinstance(exc, ValidationError | ApplicationError | ValueError):
                        raise
                    text = getattr(exc, "message", None) or "; ".join(
                        getattr(exc, "messages", [str(exc)])
                    )
                    modeladmin.message_user(request, f"{obj}: {text}", messages.ERROR)
                else:
                    done += 1
            if done:
                modeladmin.message_user(request, f"{title}: {done} done.", messages.SUCCESS)
            return None

    opts = modeladmin.model._meta
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "question": question,
        "items": list(items) if items is not None else [str(obj) for obj in queryset],
        "details": list(details),
        "queryset": queryset,
        "opts": opts,
        "action": action,
        "ask_reason": ask_reason,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": modeladmin.media,
    }
    return TemplateResponse(request, "admin/confirm_action.html", context)
