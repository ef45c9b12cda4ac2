"""Staff make a one-off invoice: pick a customer and add-ons (quantity, optional price and
text), see the lines and total on a confirmation page, then create the draft (or finalize it).

The form carries an idempotency key drawn when it is first shown, so a double submit or a
browser retry makes one invoice."""

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from billing_site.core.exceptions import ApplicationError
from invoices.addon_models import ADD_ON_MAX_AMOUNT
from invoices.calculations import invoice_total
from invoices.display import money_text
from invoices.models import Invoice
from invoices.selectors.add_ons import add_ons_active
from invoices.services.one_off import OneOffItem, one_off_invoice_create, one_off_lines
from plans.models import Customer

MAX_QUANTITY = 100_000


class OneOffInvoiceForm(forms.Form):
    customer = forms.ModelChoiceField(queryset=Customer.objects.filter(archived_at__isnull=True))
    finalize = forms.BooleanField(
        required=False,
        label="Finalize at once",
        help_text="Give it its number now and request payment; otherwise it stays a draft for "
        "a day, for review.",
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=255)


class OneOffItemForm(forms.Form):
    add_on = forms.ModelChoiceField(queryset=add_ons_active(), label="Add-on")
    quantity = forms.DecimalField(
        required=False,
        max_digits=18,
        decimal_places=6,
        min_value=Decimal("0.000001"),
        max_value=MAX_QUANTITY,
        label="Quantity (blank: 1)",
    )
    unit_price = forms.DecimalField(
        required=False,
        max_digits=22,
        decimal_places=12,
        min_value=0,
        max_value=ADD_ON_MAX_AMOUNT,
        label="Unit price (blank: the add-on's)",
    )
    description = forms.CharField(
        required=False, max_length=300, label="Line text (blank: the add-on's)"
    )


OneOffItemFormSet = forms.formset_factory(OneOffItemForm, extra=3, max_num=50, validate_max=True)


def _items(formset: Any) -> list[OneOffItem]:
    return [
        OneOffItem(
            add_on=data["add_on"],
            quantity=data["quantity"] or Decimal(1),
            unit_price=data["unit_price"],
            description=data["description"],
        )
        for data in (form.cleaned_data for form in formset.forms)
        if data and data.get("add_on")
    ]


def _preview(customer: Customer, items: list[OneOffItem]) -> tuple[list[str], str]:
    """The lines as they will read (taxes included), and the total; empty when currencies
    differ: the service refuses that and says why."""
    currencies = {item.add_on.currency for item in items}
    if len(currencies) != 1:
        return [], ""
    (currency,) = currencies
    day = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    lines = [
        line
        for line, _ in one_off_lines(customer=customer, items=items, currency=currency, day=day)
    ]
    rows = [
        f"{line.description}: {line.breakdown['formula']} = {money_text(line.amount, currency)}"
        for line in lines
    ]
    return rows, money_text(invoice_total(lines), currency)


def one_off_invoice_view(model_admin: admin.ModelAdmin, request: HttpRequest) -> HttpResponse:
    initial = {"idempotency_key": uuid.uuid4().hex}
    if request.GET.get("customer", "").isdigit():
        initial["customer"] = request.GET["customer"]
    if request.method == "POST":
        form = OneOffInvoiceForm(request.POST)
        formset = OneOffItemFormSet(request.POST, prefix="items")
    else:
        form = OneOffInvoiceForm(initial=initial)
        formset = OneOffItemFormSet(prefix="items")
    confirming = False
    preview: tuple[list[str], str] = ([], "")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        items = _items(formset)
        if not items:
            messages.error(request, "Pick at least one add-on.")
        elif request.POST.get("post") == "yes":
            try:
                invoice, created = one_off_invoice_create(
                    customer=form.cleaned_data["customer"],
                    items=items,
                    idempotency_key=form.cleaned_data["idempotency_key"],
                    finalize=form.cleaned_data["finalize"],
                    actor=request.user,
                )
            except ApplicationError as error:
                messages.error(request, error.message)
            else:
                if created:
                    model_admin.log_addition(request, invoice, "One-off invoice")
                messages.success(
                    request,
                    f"One-off invoice {invoice} for {invoice.customer}: "
                    f"{money_text(invoice.total, invoice.currency)}.",
                )
                return HttpResponseRedirect(
                    reverse("admin:invoices_invoice_change", args=[invoice.pk])
                )
        elif "edit" not in request.POST:
            confirming = True
            preview = _preview(form.cleaned_data["customer"], items)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Confirm the one-off invoice" if confirming else "New one-off invoice",
        "opts": Invoice._meta,
        "form": form,
        "formset": formset,
        "confirming": confirming,
        "preview_lines": preview[0],
        "preview_total": preview[1],
    }
    return TemplateResponse(request, "admin/invoices/one_off_invoice.html", context)
