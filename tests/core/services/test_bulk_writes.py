"""Bulk writes of the batch billing path: many rows updated in one statement, audit rows written
in one INSERT, each with its own values."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing_site.core.audit import audit_log_write
from billing_site.core.audit_bulk import AuditRecord, audit_log_write_many
from billing_site.core.bulk_update import rows_update
from billing_site.core.models import AuditLogEntry
from plans.models import Customer

pytestmark = pytest.mark.django_db


def test_rows_update_writes_each_rows_own_values_in_one_statement():
    customers = [Customer.objects.create(external_id=f"c{n}", currency="USD") for n in range(3)]
    customers[0].name, customers[1].name, customers[2].name = "Ada", "", "Grace & Co"
    customers[1].archived_at = datetime(2026, 3, 1, tzinfo=UTC)

    with CaptureQueriesContext(connection) as captured:
        updated = rows_update(customers[:2] + customers[2:], ["name", "archived_at"])

    assert (updated, len(captured.captured_queries)) == (3, 1)
    assert list(Customer.objects.order_by("external_id").values_list("name", "archived_at")) == [
        ("Ada", None),
        ("", datetime(2026, 3, 1, tzinfo=UTC)),
        ("Grace & Co", None),
    ]


def test_audit_log_write_many_writes_the_rows_audit_log_write_writes():
    customer = Customer.objects.create(external_id="acme", currency="USD")
    one = audit_log_write(actor=None, action="customer.noted", obj=customer, changes={"n": 1})

    (many,) = audit_log_write_many(
        [AuditRecord(actor=None, action="customer.noted", obj=customer, changes={"n": 1})]
    )

    fields = ("actor_label", "action", "object_type", "object_id", "object_repr", "changes")
    rows = list(AuditLogEntry.objects.filter(pk__in=[one.pk, many.pk]).values_list(*fields))
    assert len(rows) == 2
    assert (
        rows[0]
        == rows[1]
        == ("system", "customer.noted", "plans.customer", str(customer.pk), "acme", {"n": 1})
    )
