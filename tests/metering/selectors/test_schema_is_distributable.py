"""DESIGN.md: the event tables can be distributed by customer_id on Citus, which requires the
distribution column in every primary key and unique constraint of a distributed table."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

# Distributed by customer_id on Citus (create_distributed_table), and the others: reference
# tables (small, read everywhere) or coordinator-local tables. README, "Citus".
DISTRIBUTED = {
    "metering_event",
    "metering_usagerollup",
    "metering_usagedistinctrollup",
    "metering_usagedistinctsnapshot",
    "metering_usagegaugerollup",
}
NOT_DISTRIBUTED = {
    "metering_billablemetric",
    "metering_customeralias",
    "metering_usagerollupstate",
    "metering_ingestrejection",
    "metering_unknowncustomer",
    "metering_eventactivitycount",
}


def _keys() -> dict[str, list[tuple[str, list[str]]]]:
    """Every primary key and unique constraint (or unique index) of the metering tables."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.relname, i.relname,
                   array_agg(a.attname ORDER BY k.ord)
            FROM pg_index x
            JOIN pg_class t ON t.oid = x.indrelid
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace
            CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
            WHERE (x.indisprimary OR x.indisunique)
              AND n.nspname = current_schema() AND t.relname LIKE 'metering\\_%%'
            GROUP BY t.relname, i.relname
            """
        )
        keys: dict[str, list[tuple[str, list[str]]]] = {}
        for table, index, columns in cursor.fetchall():
            keys.setdefault(table, []).append((index, columns))
    return keys


def test_every_key_of_a_distributed_metering_table_includes_customer_id():
    # when
    keys = _keys()

    # then
    without_customer = {
        f"{table}.{index}": columns
        for table in DISTRIBUTED
        for index, columns in keys.get(table, [])
        if "customer_id" not in columns
    }
    assert without_customer == {}
    assert keys["metering_event"] == [
        ("metering_event_customer_transaction_uniq", ["customer_id", "transaction_id"])
    ]


def test_every_metering_table_is_either_distributed_or_kept_whole():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables "
            "WHERE schemaname = current_schema() AND tablename LIKE 'metering\\_%%'"
        )
        tables = {row[0] for row in cursor.fetchall()}
    assert tables == DISTRIBUTED | NOT_DISTRIBUTED
