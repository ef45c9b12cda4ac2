from collections.abc import Callable

import pytest

from plans.models import Customer, Feature, Subscription
from tests.entitlements.factories import subscribe


@pytest.fixture
def subscribed(db) -> Callable[..., tuple[Customer, Subscription, Feature]]:
    """A customer subscribed (since Nov 1, monthly) to a plan with one feature."""
    return subscribe
