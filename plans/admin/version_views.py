"""The version page's own pages: publish (with what it freezes), new draft from a version,
compare two versions side by side, archive, and move the version's subscriptions."""

import json
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from billing_site.core.exceptions import ApplicationError
from plans.admin._base import error_text, service_errors
from plans.admin.display import (
    charge_properties_html,
    charge_summary,
    example_text,
    plain,
    plan_feature_text,
)
from plans.admin.forms import VERSION_FIELDS
from plans.admin.migration import migration_flow
from plans.models import Plan, PlanVersion, Subscription
from plans.selectors import plan_versions_diff
from plans.sentences import money_text
from plans.services import (
    plan_version_archive,
    plan_version_create_draft,
    plan_version_create_draft_from,
    plan_version_publish,
    plan_version_publish_errors,
)

LIVE = (Subscription.Status.TRIALING, Subscription.Status.ACTIVE)


def _url(name: str, version: PlanVersion) -> str:
    return reverse(f"admin:plans_planversion_{name}", args=[version.pk])


def _redirect(version: PlanVersion) -> HttpResponseRedirect:
    return HttpResponseRedirect(_url("change", version))


def _version(modeladmin: admin.ModelAdmin, request: HttpRequest, object_id: str) -> PlanVersion:
    version = modeladmin.get_object(request, object_id)
    if version is None:
        raise Http404("No such plan version.")
    return version


def _render(
    modeladmin: admin.ModelAdmin, request: HttpRequest, template: str, **context: Any
) -> TemplateResponse:
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": modeladmin.model._meta,
        "media": modeladmin.media,
        **context,
    }
    return TemplateResponse(request, f"admin/plans/{template}", context)


def object_tools_context(version: PlanVersion) -> dict[str, Any]:
    """What the version page's buttons need."""
    draft = None
    if not version.is_draft:
        draft = version.plan.versions.filter(status=PlanVersion.Status.DRAFT).first()
    live = Subscription.objects.filter(version=version, status__in=LIVE).count()
    subscriptions = reverse("admin:plans_subscription_changelist")
    return {
        "version": version,
        "existing_draft": draft,
        "live_subscriptions": live,
        "subscriptions_url": f"{subscriptions}?version__id__exact={version.pk}",
        "add_charge_url": reverse("admin:plans_charge_add") + f"?version={version.pk}",
        **{
            f"{name}_url": _url(name, version)
            for name in ("publish", "draft_from", "compare", "archive", "migrate")
        },
    }


def _field_rows(*versions: PlanVersion) -> list[dict[str, Any]]:
    rows = []
    for name in VERSION_FIELDS:
        field = PlanVersion._meta.get_field(name)
        values = []
        for version in versions:
            value = getattr(version, name)
            if field.choices:
                value = getattr(version, f"get_{name}_display")()
            elif isinstance(value, bool):
                value = "yes" if value else "no"
            elif name == "base_fee":
                value = money_text(value, version.currency)
            values.append(value)
        rows.append(
            {
                "label": field.verbose_name,
                "values": values,
                "changed": len(set(map(str, values))) > 1,
            }
        )
    return rows


def publish(modeladmin: admin.ModelAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    """A confirmation page listing what publishing freezes, or why it cannot be published."""
    version = _version(modeladmin, request, object_id)
    if not modeladmin.has_change_permission(request, version):
        raise PermissionDenied
    if not version.is_draft:
        modeladmin.message_user(
            request, f"Version {version.number} is already {version.status}.", messages.WARNING
        )
        return _redirect(version)
    if request.method == "POST":
        try:
            plan_version_publish(version=version, actor=request.user)
        except (ApplicationError, ValidationError) as error:
            for field_messages in service_errors(error).values():
                for message in field_messages:
                    modeladmin.message_user(request, message, messages.ERROR)
        else:
            modeladmin.log_change(request, version, "Published.")
            modeladmin.message_user(
                request,
                f"{version.plan.code} v{version.number} is published: new subscriptions can use "
                "it, and it can no longer be edited (create a new draft from it to change it).",
                messages.SUCCESS,
            )
            return _redirect(version)
    errors = plan_version_publish_errors(version)
    charges = version.charges.select_related("metric").order_by("position", "id")
    return _render(
        modeladmin,
        request,
        "planversion/publish.html",
        title=f"Publish {version.plan.code} version {version.number}?",
        version=version,
        fields=_field_rows(version),
        charges=[
            {
                "charge": charge,
                "pricing": charge_properties_html(charge, version.currency),
                "example": example_text(charge.charge_model, charge.properties, version.currency),
            }
            for charge in charges
        ],
        features=[
            {"feature": pf.feature, "grants": plan_feature_text(pf)}
            for pf in version.features.select_related("feature").order_by("feature__slug")
        ],
        errors=[message for values in errors.values() for message in values],
    )


def draft_from(modeladmin: admin.ModelAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    """Copy the version (fields, charges, features) into a new draft, and open it."""
    version = _version(modeladmin, request, object_id)
    if request.method != "POST":
        return _redirect(version)
    if not modeladmin.has_add_permission(request):
        raise PermissionDenied
    return _new_draft(modeladmin, request, version.plan, version)


def plan_new_draft(
    modeladmin: admin.ModelAdmin, request: HttpRequest, object_id: str
) -> HttpResponse:
    """From the plan page: a draft copying the latest version (or an empty one)."""
    plan = modeladmin.get_object(request, object_id)
    if plan is None:
        raise Http404("No such plan.")
    if request.method != "POST":
        return HttpResponseRedirect(reverse("admin:plans_plan_change", args=[plan.pk]))
    if not request.user.has_perm("plans.add_planversion"):
        raise PermissionDenied
    latest = plan.versions.order_by("-number").first()
    return _new_draft(modeladmin, request, plan, latest)


def _new_draft(
    modeladmin: admin.ModelAdmin, request: HttpRequest, plan: Plan, source: PlanVersion | None
) -> HttpResponse:
    try:
        if source is None:
            draft = plan_version_create_draft(plan=plan, actor=request.user)
        else:
            draft = plan_version_create_draft_from(version=source, actor=request.user)
    except (ApplicationError, ValidationError) as error:
        modeladmin.message_user(request, error_text(error), messages.WARNING)
        existing = plan.versions.filter(status=PlanVersion.Status.DRAFT).first()
        return (
            _redirect(existing or source)
            if (existing or source)
            else HttpResponseRedirect(reverse("admin:plans_plan_change", args=[plan.pk]))
        )
    origin = f"from version {source.number}" if source else "(empty)"
    modeladmin.log_addition(request, draft, f"Drafted {origin}.")
    copied = ", with its charges and features" if source else ""
    modeladmin.message_user(
        request,
        f"Draft version {draft.number} of {plan.code} was created {origin}{copied}. "
        "Change what you need, then publish it.",
        messages.SUCCESS,
    )
    return _redirect(draft)


def _summary(values: dict[str, Any] | None, currency: str) -> str:
    """A charge's or plan feature's values (as the diff holds them) in one line."""
    if not values:
        return ""
    if "charge_model" in values:
        return charge_summary(values["charge_model"], values["properties"], currency)
    return ", ".join(
        f"{key} {_cell(value)}"
        for key, value in values.items()
        if key != "feature" and value not in (None, "")
    )


def _item_rows(changes: Any, currency: str) -> list[dict[str, Any]]:
    return [
        {
            "key": item.key,
            "change": item.change,
            "old": _summary(item.old, currency),
            "new": _summary(item.new, currency),
            "fields": [
                {"path": f.label, "old": _cell(f.old), "new": _cell(f.new)} for f in item.fields
            ],
        }
        for item in changes
    ]


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return plain(value)


def compare(modeladmin: admin.ModelAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    """Two versions of the same plan side by side: fields, charges and features, with what was
    added, removed or changed (old and new values)."""
    version = _version(modeladmin, request, object_id)
    if not modeladmin.has_view_permission(request, version):
        raise PermissionDenied
    others = list(version.plan.versions.exclude(pk=version.pk).order_by("-number"))
    chosen = request.GET.get("with", "")
    other = next((v for v in others if str(v.pk) == chosen), None)
    if other is None:
        earlier = [v for v in others if v.number < version.number]
        other = earlier[0] if earlier else (others[-1] if others else None)
    context: dict[str, Any] = {
        "title": f"Compare versions of {version.plan}",
        "version": version,
        "others": others,
        "other": other,
    }
    if other is not None:
        old, new = sorted((version, other), key=lambda v: v.number)
        diff = plan_versions_diff(old, new)
        context.update(
            old=old,
            new=new,
            diff=diff,
            fields=_field_rows(old, new),
            charges=_item_rows(diff.charges, new.currency),
            features=_item_rows(diff.features, new.currency),
        )
    return _render(modeladmin, request, "planversion/compare.html", **context)


def archive(modeladmin: admin.ModelAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    """Withdraw a published version from sale, after confirmation (with a reason)."""
    version = _version(modeladmin, request, object_id)
    if not modeladmin.has_change_permission(request, version):
        raise PermissionDenied
    if version.status != PlanVersion.Status.PUBLISHED:
        modeladmin.message_user(
            request,
            f"Only a published version can be archived; this one is {version.status}.",
            messages.WARNING,
        )
        return _redirect(version)
    if request.method == "POST":
        reason = request.POST.get("reason", "").strip()
        if not reason:
            modeladmin.message_user(request, "Give a reason.", messages.ERROR)
        else:
            try:
                plan_version_archive(version=version, actor=request.user, reason=reason)
            except (ApplicationError, ValidationError) as error:
                modeladmin.message_user(request, error_text(error), messages.ERROR)
            else:
                modeladmin.log_change(request, version, f"Archived: {reason}")
                modeladmin.message_user(
                    request,
                    f"{version.plan.code} v{version.number} is archived: no new subscription "
                    "can use it; its subscriptions keep running on it.",
                    messages.SUCCESS,
                )
                return _redirect(version)
    live = Subscription.objects.filter(version=version, status__in=LIVE).count()
    return _render(
        modeladmin,
        request,
        "confirm.html",
        title=f"Archive {version.plan.code} version {version.number}?",
        crumb_object=version,
        question="An archived version is withdrawn from sale: no new subscription can use it. "
        f"Its {live} live subscription(s) keep running on it until you move them.",
        details=[str(version)],
        back_url=_url("change", version),
        submit_label=f"Yes, archive version {version.number}",
        ask_reason=True,
    )


def migrate(modeladmin: admin.ModelAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    """Move all the version's live subscriptions to another published version."""
    version = _version(modeladmin, request, object_id)
    if not request.user.has_perm("plans.change_subscription"):
        raise PermissionDenied
    response = migration_flow(
        modeladmin,
        request,
        from_version=version,
        subscriptions=None,
        hidden=[],
        back_url=_url("change", version),
    )
    return response if response is not None else _redirect(version)
