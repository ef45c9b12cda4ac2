"""Moving subscriptions to another published version: choose the target and timing, see who
moves and which charges have no counterpart, confirm. Used by the subscriptions' action and by
the version page's "Move subscriptions…" button."""

from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from billing_site.core.exceptions import ApplicationError
from plans.admin._base import error_text
from plans.models import PlanVersion, Subscription
from plans.selectors import subscriptions_migration_preview
from plans.services import subscriptions_schedule_migration

WHEN_CHOICES = [
    ("next_period", "At each subscription's next period (nothing changes mid-period)"),
    ("immediately", "Immediately (the current period keeps its dates, priced by the new version)"),
]


class MigrationTargetForm(forms.Form):
    to_version = forms.ModelChoiceField(
        queryset=PlanVersion.objects.none(),
        label="Move to",
        empty_label=None,
        help_text="Published versions priced in the same currency.",
    )
    when = forms.ChoiceField(choices=WHEN_CHOICES, widget=forms.RadioSelect, initial="next_period")

    def __init__(self, *args: Any, from_version: PlanVersion, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        targets = (
            PlanVersion.objects.filter(
                status=PlanVersion.Status.PUBLISHED, currency=from_version.currency
            )
            .exclude(pk=from_version.pk)
            .select_related("plan")
            .order_by("-number")
        )
        same_plan = [v for v in targets if v.plan_id == from_version.plan_id]
        others = sorted(
            (v for v in targets if v.plan_id != from_version.plan_id),
            key=lambda v: (v.plan.code, -v.number),
        )
        field = self.fields["to_version"]
        field.queryset = targets
        field.choices = [(v.pk, str(v)) for v in [*same_plan, *others]]  # own plan first
        if same_plan:
            self.initial.setdefault("to_version", same_plan[0].pk)


def migration_flow(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    *,
    from_version: PlanVersion,
    subscriptions: Sequence[Subscription] | None,
    hidden: Sequence[tuple[str, str]],
    back_url: str,
) -> HttpResponse | None:
    """The two pages of a migration, then the migration itself (``None`` when it is done and
    the caller should redirect). ``subscriptions=None`` moves all of the version's live ones;
    ``hidden`` carries what the caller needs to be called again (an action's name and ids)."""
    step = request.POST.get("migrate_step") if request.method == "POST" else None
    form = MigrationTargetForm(request.POST if step else None, from_version=from_version)
    context: dict[str, Any] = {
        **modeladmin.admin_site.each_context(request),
        "opts": modeladmin.model._meta,
        "title": f"Move subscriptions of {from_version} to another version",
        "from_version": from_version,
        "form": form,
        "hidden": hidden,
        "back_url": back_url,
        "selected": subscriptions,
        "step": "choose",
    }
    if step in ("preview", "confirm") and form.is_valid():
        to_version, when = form.cleaned_data["to_version"], form.cleaned_data["when"]
        if step == "confirm":
            try:
                result = subscriptions_schedule_migration(
                    from_version=from_version,
                    to_version=to_version,
                    when=when,
                    subscriptions=subscriptions,
                    actor=request.user,
                    reason=request.POST.get("reason", "").strip(),
                )
            except (ApplicationError, ValidationError) as error:
                modeladmin.message_user(request, error_text(error), messages.ERROR)
                return None
            _report(modeladmin, request, result, to_version, when)
            return None
        try:
            preview = subscriptions_migration_preview(
                from_version=from_version,
                to_version=to_version,
                when=when,
                now=timezone.now(),
                subscriptions=subscriptions,
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            context.update(step="confirm", preview=preview, to_version=to_version, when=when)
            context["when_label"] = dict(WHEN_CHOICES)[when]
    return TemplateResponse(request, "admin/plans/migrate.html", context)


def _report(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    result: Any,
    to_version: PlanVersion,
    when: str,
) -> None:
    timing = "now" if when == "immediately" else "at their next period"
    for move in result.moves:
        modeladmin.log_change(
            request,
            move.subscription,
            f"Migration to {to_version} scheduled {timing} ({move.change_at:%Y-%m-%d %H:%M} UTC).",
        )
    if result.moves:
        modeladmin.message_user(
            request,
            f"{len(result.moves)} subscription(s) will move to {to_version} {timing}.",
            messages.SUCCESS,
        )
    else:
        modeladmin.message_user(request, "No subscription could move.", messages.WARNING)
    for skip in result.skipped:
        modeladmin.message_user(
            request, f"{skip.subscription.external_id} stays: {skip.reason}.", messages.WARNING
        )
