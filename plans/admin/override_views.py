"""The subscription's "Add an override" page and its live example.

The page is the charge form's price editor (the same tier-row partial, example partial and
script) plus the override's own fields; it saves through ``subscription_override_create`` and
shows a refusal as form messages. The example prices what the override would charge: the new
price as typed (or the charge's plan price when only a discount is given), less the discount.
"""

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from billing_site.core.exceptions import ApplicationError
from plans.admin._base import add_errors_to_form, service_errors
from plans.admin.charges import _form_messages
from plans.admin.display import example_units
from plans.admin.forms import MODEL_FIELDS, PROPERTY_FIELDS, ChargeExampleForm
from plans.admin.override_form import OverrideForm
from plans.discounts import DiscountError, discount_percent_parse, discounted_properties
from plans.models import Charge, Subscription
from plans.pricing import PricingError, example_sentence, price
from plans.sentences import money_text
from plans.services import subscription_override_create

FEATURE_FIELDS = ("feature_enabled", "feature_value", "feature_limit", "feature_unlimited")
FEATURE_FIELDS += ("reset_period", "cap")
CREDIT_FORM_FIELDS = ("initial_amount", "refill_amount", "expiry_days", "priority")
CREDIT_FORM_FIELDS += ("renew_on_billing", "billing_visible")


def _subscription(modeladmin: admin.ModelAdmin, request: HttpRequest, object_id: str) -> Any:
    subscription = modeladmin.get_object(request, object_id)
    if subscription is None:
        raise Http404("No such subscription.")
    return subscription


def override_add(
    modeladmin: admin.ModelAdmin, request: HttpRequest, object_id: str
) -> HttpResponse:
    subscription: Subscription = _subscription(modeladmin, request, object_id)
    back = reverse("admin:plans_subscription_change", args=[subscription.pk])
    if not subscription.is_live:
        status = subscription.get_status_display().lower()
        modeladmin.message_user(
            request,
            f"The subscription is {status}: only a live subscription takes overrides.",
            messages.ERROR,
        )
        return HttpResponseRedirect(back)
    data = request.POST if request.method == "POST" else None
    form = OverrideForm(data, subscription=subscription, use_required_attribute=False)
    if data is not None and form.is_valid():
        try:
            override = subscription_override_create(
                subscription=subscription, actor=request.user, **form.service_arguments()
            )
        except (ApplicationError, ValidationError) as error:
            add_errors_to_form(form, service_errors(error))
        else:
            modeladmin.log_change(request, subscription, f"Override {override.pk} added.")
            modeladmin.message_user(request, "The override was added.", messages.SUCCESS)
            return HttpResponseRedirect(back)
    version = subscription.version
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": modeladmin.model._meta,
        "title": f"Add an override to {subscription}",
        "crumb_object": subscription,
        "form": form,
        "errors_listed": _form_messages(form) if form.is_bound else [],
        "tiers": form.tiers,
        "model_fields": {model: list(names) for model, names in MODEL_FIELDS.items()},
        "property_fields": PROPERTY_FIELDS,
        "preview_url": reverse("admin:plans_subscription_override_preview", args=[subscription.pk]),
        "currency": version.currency,
        "base_fee": money_text(version.base_fee, version.currency),
        "now": timezone.localtime(),
        "back_url": back,
        "feature_fields": [form[name] for name in FEATURE_FIELDS],
        "credit_fields": [form[name] for name in CREDIT_FORM_FIELDS],
    }
    return TemplateResponse(request, "admin/plans/override/add.html", context)


def override_preview(
    modeladmin: admin.ModelAdmin, request: HttpRequest, object_id: str
) -> JsonResponse:
    """The live example: what the example units would cost with this override."""
    if request.method != "POST":
        return JsonResponse({"ok": False, "errors": ["Send the form with POST."]}, status=405)
    subscription: Subscription = _subscription(modeladmin, request, object_id)
    if not modeladmin.has_view_permission(request, subscription):
        raise PermissionDenied
    currency = subscription.version.currency
    form = ChargeExampleForm(request.POST)
    typed_model = request.POST.get("charge_model") or ""
    if not form.is_valid() and (typed_model or form.has_error("example_units")):
        return JsonResponse({"ok": False, "errors": _form_messages(form)})
    if typed_model:
        model, properties = form.cleaned_data["charge_model"], form.properties
    else:
        charge = _charge(subscription, request.POST.get("charge"))
        if charge is None:
            return JsonResponse({"ok": False, "errors": ["Choose the charge first."]})
        model, properties = charge.charge_model, dict(charge.properties)
    discount_text = ""
    if (request.POST.get("discount_percent") or "").strip():
        try:
            discount = discount_percent_parse(request.POST["discount_percent"])
        except DiscountError as error:
            return JsonResponse({"ok": False, "errors": [str(error)]})
        properties = discounted_properties(model, properties, discount)
        discount_text = f" after {format(discount.normalize(), 'f')}% off"
    units = form.cleaned_data.get("example_units") if hasattr(form, "cleaned_data") else None
    if units is None:
        units = example_units(model, properties)
    try:
        result = price(model, properties, units)  # type: ignore[arg-type]
        sentence = example_sentence(model, properties, units, currency)  # type: ignore[arg-type]
    except PricingError as error:
        return JsonResponse({"ok": False, "errors": [error.message]})
    return JsonResponse(
        {
            "ok": True,
            "sentence": sentence + discount_text,
            "units": format(units, "f"),
            "currency": currency,
            "breakdown": [row.as_dict() for row in result.breakdown],
        }
    )


def _charge(subscription: Subscription, raw: str | None) -> Charge | None:
    if not raw or not raw.isdigit():
        return None
    versions = [subscription.version_id, subscription.scheduled_version_id]
    return Charge.objects.filter(pk=int(raw), version_id__in=versions).first()
