from datetime import timedelta

import pytest
from django.utils import timezone

from invoices.models import AppliedCoupon
from tests.invoices.adjustment_factories import make_coupon
from tests.invoices.factories import plan_version, send_tokens, subscribe


@pytest.mark.django_db(transaction=True)
def test_operator_applies_a_coupon_and_sees_it_on_the_next_invoice_preview(
    logged_in_page, live_server
):
    page = logged_in_page
    # given acme two days into a $49 period with 1,500 tokens ($25) used so far, and a coupon
    now = timezone.now()
    subscription = subscribe(plan_version(), started_at=now - timedelta(days=2))
    send_tokens("acme", 1500, at=now - timedelta(days=1))
    make_coupon("spring", percentage="10")
    customer_url = f"{live_server.url}/admin/plans/customer/{subscription.customer.pk}/change/"
    page.goto(customer_url)
    assert "$74.00 so far" in page.inner_text(".field-running_period")
    assert "No coupons." in page.inner_text(".field-applied_coupons")

    # when the operator applies the coupon from the customer's page and confirms it
    page.click("#apply-coupon")
    page.select_option("#id_coupon", label="Spring (spring)")
    page.click("input[value='Review the coupon']")
    assert "10 % off, once" in page.inner_text("#apply-coupon-form")
    assert not AppliedCoupon.objects.exists()
    page.click("input[value='Yes, apply this coupon']")

    # then back on the customer's page: the coupon is listed, and the preview of the next
    # invoice takes 10 % off the $74 so far
    page.wait_for_selector(".messagelist")
    assert "Applied coupon spring (10 % off)" in page.inner_text(".messagelist")
    assert "spring" in page.inner_text("#applied-coupons")
    preview = page.inner_text(".field-running_period")
    assert "Coupon Spring (spring): 10 % off" in preview
    assert "-$7.40" in preview
    assert "$66.60 so far" in preview
