import importlib.util
from datetime import UTC, datetime
from pathlib import Path

import pytest

# Loaded by path under a unique name: test directories are not packages, and another app's
# tests may have a `factories.py` of their own.
_spec = importlib.util.spec_from_file_location(
    "metering_test_factories", Path(__file__).with_name("factories.py")
)
factories = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(factories)

RECEIVED_AT = datetime(2026, 5, 1, 12, 30, tzinfo=UTC)


@pytest.fixture
def make_metric(db):
    return factories.metric_create


@pytest.fixture
def make_alias(db):
    return factories.alias_create


@pytest.fixture
def event_payload():
    return factories.event_payload


@pytest.fixture
def received_at() -> datetime:
    """A fixed receipt time for service tests; events are stamped half an hour before it."""
    return RECEIVED_AT
