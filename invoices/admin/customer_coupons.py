"""Coupons on the customer's page: the coupons it holds, and "Apply coupon" (a form, then a
confirmation) which gives it one through ``coupon_apply``.

The customer's page is the catalog's admin, extended by entitlements and by the invoices' running
period (``invoices.admin.running``); this module extends that last one the same way."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from billing_site.core.admin_views import admin_path
from billing_site.core.exceptions import ApplicationError
from invoices.adjustment_models import PERCENT_DIGITS, PERCENT_PLACES, AppliedCoupon, Coupon
from invoices.admin.coupons import coupon_duration_text, coupon_terms_text
from invoices.admin.running import InvoicingCustomerAdmin
from invoices.display import money_text
from invoices.services.coupons import applied_coupon_remove, coupon_apply
from plans.models import Customer

PANEL = "applied_coupons"


class CouponApplyForm(forms.Form):
    coupon = forms.ModelChoiceField(queryset=Coupon.objects.order_by("code"))
    amount = forms.DecimalField(
        required=False,
        max_digits=20,
        decimal_places=4,
        min_value=Decimal(0),
        label="Own amount",
        help_text="Optional, for a fixed coupon: this customer's amount instead of the coupon's.",
    )
    percentage = forms.DecimalField(
        required=False,
        max_digits=PERCENT_DIGITS,
        decimal_places=PERCENT_PLACES,
        min_value=Decimal(0),
        max_value=Decimal(100),
        label="Own percentage",
        help_text="Optional, for a percentage coupon: this customer's rate instead of the "
        "coupon's (10 means 10 %).",
    )


def _remaining(applied: AppliedCoupon) -> str:
    if applied.amount_remaining is not None:
        return f"{money_text(applied.amount_remaining, applied.coupon.currency)} left"
    if applied.periods_remaining is not None:
        n = applied.periods_remaining
        return f"{n} invoice{'s' if n != 1 else ''} left"
    return "No end"


def _remove_link(applied: AppliedCoupon) -> str:
    url = reverse("admin:plans_customer_remove_coupon", args=[applied.customer_id, applied.pk])
    return format_html("<a href='{}' class='remove-coupon'>Remove…</a>", url)


class CouponRemoveForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), help_text="Kept in the audit log."
    )


class CouponsCustomerAdmin(InvoicingCustomerAdmin):
    def get_fieldsets(self, request: HttpRequest, obj: Customer | None = None) -> list:
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None:
            fieldsets.append(("Coupons", {"fields": [PANEL]}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Customer | None = None) -> list:
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, PANEL] if obj is not None else fields

    @admin.display(description="Coupons")
    def applied_coupons(self, obj: Customer) -> str:
        applied = (
            AppliedCoupon.objects.filter(customer=obj)
            .select_related("coupon")
            .order_by("-created_at", "-id")
        )
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td></tr>",
            (
                (
                    a.coupon.code,
                    a.coupon.name,
                    coupon_terms_text(a.coupon, a),
                    coupon_duration_text(a.coupon),
                    _remaining(a),
                    a.get_status_display(),
                    _remove_link(a) if a.status == AppliedCoupon.Status.ACTIVE else "",
                )
                for a in applied
            ),
        )
        table = (
            format_html(
                "<table id='applied-coupons'><thead><tr><th>Code</th><th>Name</th>"
                "<th>Discount</th><th>Duration</th><th>Remaining</th><th>Status</th><th></th>"
                "</tr></thead><tbody>{}</tbody></table>",
                rows,
            )
            if applied
            else "No coupons."
        )
        link = reverse("admin:plans_customer_apply_coupon", args=[obj.pk])
        return format_html(
            "{}<p><a href='{}' id='apply-coupon' class='button'>Apply coupon</a></p>", table, link
        )

    def get_urls(self) -> list:
        return [
            admin_path(
                self,
                "<path:object_id>/apply-coupon/",
                self.apply_coupon_view,
                name="plans_customer_apply_coupon",
                permission="invoices.add_appliedcoupon",
            ),
            admin_path(
                self,
                "<path:object_id>/coupons/<int:applied_id>/remove/",
                self.remove_coupon_view,
                name="plans_customer_remove_coupon",
                permission="invoices.change_appliedcoupon",
            ),
            *super().get_urls(),
        ]

    def remove_coupon_view(
        self, request: HttpRequest, object_id: str, applied_id: int
    ) -> HttpResponse:
        customer = get_object_or_404(Customer, pk=object_id)
        applied = get_object_or_404(
            AppliedCoupon.objects.select_related("coupon"), pk=applied_id, customer=customer
        )
        form = CouponRemoveForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                applied_coupon_remove(
                    applied=applied, actor=request.user, reason=form.cleaned_data["reason"]
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                self.log_change(request, customer, f"Removed coupon {applied.coupon.code}")
                self.message_user(
                    request,
                    f"Removed coupon {applied.coupon.code} from {customer}.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:plans_customer_change", args=[customer.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Remove coupon {applied.coupon.code} from {customer}?",
            "opts": self.model._meta,
            "original": customer,
            "applied": applied,
            "terms": coupon_terms_text(applied.coupon, applied),
            "remaining": _remaining(applied),
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/invoices/remove_coupon.html", context)

    def apply_coupon_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        customer = get_object_or_404(Customer, pk=object_id)
        form = CouponApplyForm(request.POST or None)
        confirming = False
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            if request.POST.get("confirm") == "yes":
                try:
                    applied = coupon_apply(
                        customer=customer,
                        code=data["coupon"].code,
                        amount=data["amount"],
                        percentage=data["percentage"],
                        actor=request.user,
                    )
                except ApplicationError as exc:
                    field = next(iter(exc.fields), None)
                    form.add_error(
                        field if field in ("amount", "percentage") else None, exc.message
                    )
                else:
                    terms = coupon_terms_text(applied.coupon, applied)
                    self.log_change(request, customer, f"Applied coupon {applied.coupon.code}")
                    self.message_user(
                        request,
                        f"Applied coupon {applied.coupon.code} ({terms}) to {customer}.",
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(
                        reverse("admin:plans_customer_change", args=[customer.pk])
                    )
            else:
                confirming = True
        terms = ""
        if confirming:
            coupon = form.cleaned_data["coupon"]
            draft = AppliedCoupon(
                coupon=coupon,
                amount=form.cleaned_data["amount"],
                percentage=form.cleaned_data["percentage"],
            )
            terms = f"{coupon_terms_text(coupon, draft)}, {coupon_duration_text(coupon).lower()}"
        context = {
            **self.admin_site.each_context(request),
            "title": f"Apply a coupon to {customer}",
            "opts": self.model._meta,
            "original": customer,
            "form": form,
            "confirming": confirming,
            "terms": terms,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/invoices/apply_coupon.html", context)


admin.site.unregister(Customer)
admin.site.register(Customer, CouponsCustomerAdmin)
