import re
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest

from plans.models import PlanVersion
from plans.services import plan_version_publish
from tests.plans.factories import make_metric, make_plan, make_version

STARTER_TIERS = {
    "graduated_ranges": [
        {"from_value": 0, "to_value": 1000, "per_unit_amount": "0", "flat_amount": "0"},
        {"from_value": 1001, "to_value": None, "per_unit_amount": "0.01", "flat_amount": "0"},
    ]
}


def tier_rows(*rows: tuple[str, str, str, str], initial: int = 0) -> dict[str, str]:
    """The tier formset's POST data: rows of (from, to, per unit, flat)."""
    data = {
        "tiers-TOTAL_FORMS": str(len(rows)),
        "tiers-INITIAL_FORMS": str(initial),
        "tiers-MIN_NUM_FORMS": "0",
        "tiers-MAX_NUM_FORMS": "1000",
    }
    for index, (start, end, per_unit, flat) in enumerate(rows):
        data |= {
            f"tiers-{index}-from_value": start,
            f"tiers-{index}-to_value": end,
            f"tiers-{index}-per_unit_amount": per_unit,
            f"tiers-{index}-flat_amount": flat,
        }
    return data


@pytest.fixture
def api_calls(db):
    return make_metric("api_calls", name="API calls")


@pytest.fixture
def starter_draft(api_calls) -> PlanVersion:
    """Starter v1, a draft: $19/month with 1,000 calls included."""
    return make_version(
        make_plan("starter", "Starter"),
        base_fee=Decimal("19.00"),
        charges={"api_calls": ("graduated", STARTER_TIERS)},
    )


@pytest.fixture
def starter_v1(starter_draft) -> PlanVersion:
    return plan_version_publish(version=starter_draft)


class _FormFields(HTMLParser):
    """The values a browser would submit from the form with ``form_id``."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.data: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None
        self._first_option: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attr = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.inside = attr.get("id") == self.form_id
        if not self.inside or "name" not in attr and tag != "option":
            return
        if tag == "input":
            kind = attr.get("type", "text")
            if kind in ("submit", "button", "file"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in attr:
                    self.data[attr["name"]] = attr.get("value", "on")
                return
            self.data[attr["name"]] = attr.get("value", "")
        elif tag == "select":
            self._select, self._first_option = attr["name"], None
            self.data.setdefault(attr["name"], "")
        elif tag == "option" and self._select:
            if self._first_option is None:
                self._first_option = attr.get("value", "")
            if "selected" in attr:
                self.data[self._select] = attr.get("value", "")
        elif tag == "textarea":
            self._textarea = attr["name"]
            self.data[attr["name"]] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea] += (
                data.lstrip("\n") if not self.data[self._textarea] else data
            )


def form_data(response: Any, form_id: str) -> dict[str, str]:
    """What submitting the page's form unchanged would post (templates are excluded)."""
    html = re.sub(r"<template.*?</template>", "", response.content.decode(), flags=re.S)
    parser = _FormFields(form_id)
    parser.feed(html)
    return parser.data
