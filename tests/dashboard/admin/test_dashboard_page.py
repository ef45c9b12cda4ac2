"""The admin's landing page is the dashboard: figures per currency, each linking to the list
behind it, in a fixed number of queries, and only what the user may view."""

import re
from datetime import timedelta
from html import unescape

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from metering.services import usage_events_ingest
from tests.dashboard.factories import invoice, subscription, usage_alert, utc
from tests.plans.factories import make_feature, make_metric

pytestmark = pytest.mark.django_db

AT = utc(2026, 3, 16, 12, 0, 30)
INDEX = "/admin/"


@pytest.fixture
def figures():
    acme = subscription("acme", name="Acme Corp")
    globex = subscription("globex", currency="EUR")
    invoice(acme, "100.00", status="paid", issued_at=utc(2026, 3, 1), events=1200)
    invoice(acme, "10.25", status="draft", issued_at=utc(2026, 3, 15), period_end=utc(2026, 2, 15))
    invoice(
        acme,
        "42.10",
        issued_at=utc(2026, 3, 2),
        period_end=utc(2026, 1, 2),
        payment_status="failed",
    )
    invoice(globex, "20.00", status="paid", issued_at=utc(2026, 3, 1))
    feature = make_feature("calls-limit", kind="metered", metric=make_metric("api-calls"))
    usage_alert(acme, feature, 80, "850", "1000")
    usage_events_ingest(
        events=[
            {"transaction_id": f"t{n}", "customer_id": "acme", "code": "api-calls"}
            for n in range(3)
        ],
        received_at=AT - timedelta(minutes=5),
    )
    return acme


def staff(django_user_model, client, *permissions: str, groups: tuple[str, ...] = ()):
    user = django_user_model.objects.create_user("sam", password="x", is_staff=True)
    for codename in permissions:
        app_label, code = codename.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=code)
        )
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    client.force_login(user)
    return user


def text_of(response) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def link_to(response, label: str, currency: str = "USD") -> str:
    """The href of the first link whose text is `label` in the currency's section."""
    html = response.content.decode().split(f'id="dashboard-{currency}"', 1)[1]
    match = re.search(r'<a\b[^>]*?href="([^"]+)"[^>]*>\s*' + re.escape(label) + r"\s*</a>", html)
    assert match, f"no link {label!r}"
    return unescape(match.group(1))


def test_finance_sees_each_currencys_revenue_queues_and_top_customers(
    client, django_user_model, figures
):
    # given
    staff(django_user_model, client, groups=("finance",))
    # when
    with time_machine.travel(AT, tick=False):
        response = client.get(INDEX)
    # then
    assert response.status_code == 200
    text = text_of(response)
    assert "USD" in text
    assert "EUR" in text
    assert "Paid (1) $100.00" in text
    assert "Draft (1) $10.25" in text
    assert "Finalized, awaiting payment (1) $42.10" in text
    # 152.35 so far in 15 days 12:00:30 of March's 31: x 2,678,400 s / 1,339,230 s
    assert "Projected to month end $304.69" in text
    assert "Paid (1) €20.00" in text
    assert "Failed payments 1 $42.10" in text
    assert "Acme Corp 1,200 events" in text
    assert "Customers near their limits 1 at 80% or more" in text
    assert "850 of 1,000" in text
    assert "3 events" in text


def test_a_figure_links_to_its_filtered_list(client, django_user_model, figures):
    # given
    staff(django_user_model, client, groups=("finance",))
    with time_machine.travel(AT, tick=False):
        page = client.get(INDEX)
    href = link_to(page, "$42.10")  # the finalized, unpaid amount of March
    # when
    listing = client.get(href)
    # then
    assert listing.status_code == 200
    assert [invoice.total for invoice in listing.context["cl"].result_list] == [
        figures.invoices.get(total="42.10").total
    ]
    assert "status__exact=finalized" in href
    assert "currency__exact=USD" in href


def test_the_failed_payments_link_lists_only_failed_open_invoices(
    client, django_user_model, figures
):
    # given
    staff(django_user_model, client, groups=("finance",))
    with time_machine.travel(AT, tick=False):
        page = client.get(INDEX)
    href = link_to(page, "Failed payments")
    # when
    listing = client.get(href)
    # then
    assert [str(i.total) for i in listing.context["cl"].result_list] == ["42.1000"]


def test_the_page_takes_a_fixed_number_of_queries_however_many_invoices(
    client, django_user_model, figures, django_assert_num_queries
):
    # given
    staff(django_user_model, client, groups=("finance",))
    for n in range(10):
        invoice(subscription(f"more-{n}"), "1.00", status="paid", issued_at=utc(2026, 3, 3))
    # when / then: session, user, permissions (2), recent actions, and the dashboard's 12
    # reads (revenue; MRR and its versions' intervals; top customers by amount and by usage,
    # each with their names; drafts; failed payments; events per minute; near limits, 2)
    with time_machine.travel(AT, tick=False), django_assert_num_queries(17):
        response = client.get(INDEX)
    assert response.status_code == 200


def test_staff_without_view_rights_see_no_figures(client, django_user_model, figures):
    # given
    staff(django_user_model, client)
    # when
    with time_machine.travel(AT, tick=False):
        response = client.get(INDEX)
    # then
    assert response.status_code == 200
    assert 'id="dashboard"' not in response.content.decode()
    assert "$100.00" not in text_of(response)


def test_staff_who_may_view_only_events_see_only_the_events_chart(
    client, django_user_model, figures
):
    # given
    staff(django_user_model, client, "metering.view_event")
    # when
    with time_machine.travel(AT, tick=False):
        response = client.get(INDEX)
    # then
    text = text_of(response)
    assert "Events per minute, last 24 hours" in text
    assert "$100.00" not in text
    assert "near their limits" not in text
    assert reverse("admin:metering_event_changelist") + "?within=24h" in response.content.decode()


def test_every_link_of_the_dashboard_opens_its_list(client, django_user_model, figures):
    # given
    staff(django_user_model, client, groups=("finance",))
    with time_machine.travel(AT, tick=False):
        page = client.get(INDEX)
    panel = page.content.decode().split('id="dashboard"', 1)[1].split("</div>\n\n", 1)[0]
    hrefs = sorted({unescape(href) for href in re.findall(r'href="([^"]+)"', panel)})
    # when
    statuses = {href: client.get(href).status_code for href in hrefs}
    # then: an admin list answers an invalid lookup with a redirect to ?e=1, not a 200
    assert len(hrefs) >= 20
    assert {href: status for href, status in statuses.items() if status != 200} == {}


def test_the_mrr_figure_lists_the_invoices_of_that_months_periods(
    client, django_user_model, figures
):
    # given: February's periods, one counted and one void
    staff(django_user_model, client, groups=("finance",))
    acme = figures
    feb = utc(2026, 2, 1)
    counted = invoice(acme, "49.00", issued_at=utc(2026, 3, 1, 1), period_start=feb)
    invoice(acme, "9.00", status="void", issued_at=utc(2026, 3, 1, 2), period_start=utc(2026, 2, 2))
    with time_machine.travel(AT, tick=False):
        page = client.get(INDEX)
    # when
    listing = client.get(link_to(page, "$49.00"))
    # then
    assert [invoice.pk for invoice in listing.context["cl"].result_list] == [counted.pk]
