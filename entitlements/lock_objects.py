"""The lock that serializes consumes, reserves and commits of one customer's feature.

A transaction-scoped PostgreSQL advisory lock keyed by (customer, feature): it works across
processes and hosts, needs no row to exist first (a customer's first consume has no counter
yet), and is released by commit or rollback. Everything that spends a feature's allowance takes
it first, then row locks (counter, grants in pk order), always in that order.
"""

from django.db import connection


def entitlement_lock(*, customer_id: int, feature_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"entitlement:{customer_id}:{feature_id}"],
        )
