"""Many rows updated in one statement: ``UPDATE t SET ... FROM unnest(arrays) WHERE t.pk = v.pk``.

Django's ``bulk_update`` builds one CASE WHEN per field and row, which costs more Python time
than the database spends on the update once a batch has hundreds of rows; this sends one array
per field instead. Values are prepared by their model fields, as ``save`` would prepare them.
"""

from collections.abc import Sequence

from django.db import connection, models


def rows_update(objs: Sequence[models.Model], fields: Sequence[str]) -> int:
    """Write ``fields`` of every instance in ``objs`` (one model, saved rows) to its row in one
    UPDATE; returns the number of rows updated. ``auto_now`` fields are not touched unless
    named (set them on the instances first)."""
    if not objs:
        return 0
    meta = type(objs[0])._meta
    quote = connection.ops.quote_name
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    arrays = [
        [column.get_db_prep_save(getattr(obj, column.attname), connection) for obj in objs]
        for column in columns
    ]
    names = [quote(column.column) for column in columns]
    casts = ", ".join(f"%s::{column.db_type(connection)}[]" for column in columns)
    assignments = ", ".join(f"{name} = v.{name}" for name in names[1:])
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "
        f"FROM unnest({casts}) AS v({', '.join(names)}) WHERE t.{names[0]} = v.{names[0]}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)
        return cursor.rowcount
