"""BoundInput validates with one serializer instance and answers exactly as is_valid does."""

from decimal import Decimal

import pytest
from django.http import QueryDict
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from billing_site.core.api.serializers import BoundInput
from entitlements.api.serializers import (
    EntitlementCheckInputSerializer,
    EntitlementConsumeInputSerializer,
)

CONSUME = BoundInput(EntitlementConsumeInputSerializer)


def _is_valid_errors(serializer_class: type[serializers.Serializer], data: object) -> dict:
    serializer = serializer_class(data=data)
    assert not serializer.is_valid()
    return dict(serializer.errors)


@pytest.mark.parametrize(
    "data",
    [
        {"quantity": "-1"},
        {"transaction_id": 7, "quantity": "1e400"},
        {"transaction_id": "t", "quantity": "abc", "properties": []},
        {"transaction_id": "x" * 201},
        [{"transaction_id": "t"}],
        "text",
    ],
)
def test_invalid_input_raises_the_errors_is_valid_reports(data):
    with pytest.raises(ValidationError) as raised:
        CONSUME(data)
    assert raised.value.detail == _is_valid_errors(EntitlementConsumeInputSerializer, data)


def test_valid_input_gets_the_defaults_and_one_instance_serves_every_call():
    first = CONSUME({"transaction_id": "t-1"})
    second = CONSUME({"transaction_id": "t-2", "quantity": "2.5", "properties": {"k": "v"}})
    assert first == {"transaction_id": "t-1", "quantity": Decimal(1), "properties": {}}
    assert second == {
        "transaction_id": "t-2",
        "quantity": Decimal("2.5"),
        "properties": {"k": "v"},
    }


def test_query_strings_are_read_like_is_valid_reads_them():
    check = BoundInput(EntitlementCheckInputSerializer)
    assert check(QueryDict("quantity=3"))["quantity"] == Decimal(3)
    assert check(QueryDict(""))["quantity"] == Decimal(1)
    with pytest.raises(ValidationError) as raised:
        check(QueryDict("quantity=0"))
    assert raised.value.detail == _is_valid_errors(
        EntitlementCheckInputSerializer, QueryDict("quantity=0")
    )
