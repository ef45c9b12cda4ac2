"""The event table's primary key becomes (customer_id, transaction_id), as Citus requires of a
table distributed by customer_id (the distribution column in every primary key and unique key).

(customer_id, transaction_id) is already the event's identity and unique forever, so it becomes
the primary key in place of its unique constraint: the table keeps two B-trees (this key and the
usage index) instead of three, and ingest's ON CONFLICT arbiter is unchanged. The B-tree on `id`
alone is replaced by a BRIN index on id: events are appended in id order, so a BRIN range scan
serves the rollup refresh's id ranges and an event's admin page, and costs inserts almost
nothing; autosummarize has autovacuum summarise each block range once it is full, so only the
newest range is ever read unsummarised. Django's state keeps `id` as the model's pk (ids come from one identity sequence, and
the admin cannot work with a composite pk) and the unique constraint under its name, which is
now the primary key's name: only the database changes, so this is SQL with its reverse.
"""

import django.contrib.postgres.indexes
from django.db import migrations

FORWARD = """
ALTER TABLE metering_event DROP CONSTRAINT metering_event_pkey;
ALTER TABLE metering_event DROP CONSTRAINT metering_event_customer_transaction_uniq;
ALTER TABLE metering_event ADD CONSTRAINT metering_event_customer_transaction_uniq
    PRIMARY KEY (customer_id, transaction_id);
"""
BACKWARD = """
ALTER TABLE metering_event DROP CONSTRAINT metering_event_customer_transaction_uniq;
ALTER TABLE metering_event ADD CONSTRAINT metering_event_customer_transaction_uniq
    UNIQUE (customer_id, transaction_id);
ALTER TABLE metering_event ADD CONSTRAINT metering_event_pkey PRIMARY KEY (id);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("metering", "0003_distinct_and_gauge_rollups"),
    ]

    operations = [
        migrations.RunSQL(FORWARD, BACKWARD),
        migrations.AddIndex(
            model_name="event",
            index=django.contrib.postgres.indexes.BrinIndex(
                autosummarize=True, fields=["id"], name="metering_event_id_brin"
            ),
        ),
    ]
