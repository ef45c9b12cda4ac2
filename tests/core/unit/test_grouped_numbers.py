from decimal import Decimal

import pytest
from django.template import Context, Template

from billing_site.core.numbers import grouped_number


@pytest.mark.parametrize(
    ("_case", "value", "shown"),
    [
        ("integer", 10000, "10,000"),
        ("millions", 1234567, "1,234,567"),
        ("decimal keeps its digits", Decimal("1234.5000"), "1,234.5"),
        ("negative", Decimal("-1234567.125"), "-1,234,567.125"),
        ("zero with places", Decimal("0E-4"), "0"),
        ("stored as text", "25000", "25,000"),
        ("nothing", None, "—"),
        ("not a number", "abc", "—"),
        ("not finite", Decimal("NaN"), "—"),
        ("not a count", True, "—"),
    ],
)
def test_numbers_are_grouped_by_thousands(_case, value, shown):
    assert grouped_number(value) == shown


def test_the_template_filter_groups_numbers():
    html = Template("{% load numbers %}{{ n|grouped }} events").render(Context({"n": 10000}))
    assert html == "10,000 events"
