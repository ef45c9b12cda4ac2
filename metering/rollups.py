"""Daily usage rollups, kept by SQL so that the billing run's all-customers aggregation reads a
few rows per customer and day instead of every event: totals of count, sum and max metrics
(`UsageRollup`), distinct values of unique_count metrics (`UsageDistinctRollup`, with each day's
last operation on a value for recurring ones) and a gauge's
day of weighted_sum metrics (`UsageGaugeRollup`). `last` metrics are read from the events.
Recurring unique_count metrics also keep a snapshot of their state at every UTC month start
(`UsageDistinctSnapshot`, see `aggregation/snapshot_sql.py`), moved with the same watermark, so
that the state a period carries in is read from one month's snapshot and the days since.

Exactness: a metric's `UsageRollupState.watermark` W says its rollup rows hold exactly the
contributing events with `id <= W`; `aggregation.rollup_usage_sql` adds the events above W from
the event table (for weighted_sum: reads the customers that have any raw), so a result equals the
raw query whatever arrived since (late events included).
The state and the rows change together in one transaction, and a reader's statement checks that
the state still has the W it planned with, so it never mixes two refreshes.
W must never pass an id that could still commit: ids come from a sequence in allocation order,
not commit order, so the refresh first takes `SHARE` on the event table for an instant (it waits
for in-flight inserts and holds new ones back) and reads the id sequence's last value; every id
up to that value is then committed or gone for good. Events are never updated or deleted by the
application; a metric whose definition changes (code, filters, property, weights, aggregation)
is rebuilt from zero, and until then the selectors read it raw.
"""

from django.db import connection, transaction
from django.utils import timezone

from metering.aggregation import (
    UNIQUE_COUNT,
    is_recurring,
    metric_definition_hash,
    reads_rollup,
    rollup_refresh_sql,
    snapshot_sql,
)
from metering.models import (
    BillableMetric,
    UsageDistinctRollup,
    UsageDistinctSnapshot,
    UsageGaugeRollup,
    UsageRollup,
    UsageRollupState,
)

_ROLLUP_MODELS = (UsageRollup, UsageDistinctRollup, UsageDistinctSnapshot, UsageGaugeRollup)

# Ids folded into a metric's rollup per transaction: bounds a first build's transaction size.
REFRESH_CHUNK_IDS = 2_000_000
# How long the refresh may wait for in-flight ingest transactions before giving up this run.
LOCK_TIMEOUT = "2s"


def usage_rollups_safe_watermark() -> int:
    """The highest event id below which no insert can still be in flight. Call it outside a
    transaction: the table lock is held until the transaction ends."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        cursor.execute("LOCK TABLE metering_event IN SHARE MODE")
        # The id sequence's last value, not max(id): no index serves max(id) since the primary
        # key leads with customer_id. Under the lock no insert is in flight, so every id up to
        # it is committed or gone for good.
        cursor.execute(
            "SELECT coalesce(pg_sequence_last_value("
            "pg_get_serial_sequence('metering_event', 'id')), 0)"
        )
        return int(cursor.fetchone()[0])


def usage_rollup_refresh_metric(
    *, metric: BillableMetric, upto: int, chunk_size: int = REFRESH_CHUNK_IDS
) -> int | None:
    """Folds the metric's events with ids up to `upto` into its rollup, a chunk of ids per
    transaction; rebuilds it first if the metric's definition changed. Returns the watermark,
    or None when another refresh holds the metric's state row.

    Each chunk locks the state row and re-reads the watermark under the lock, so concurrent
    refreshes never add an event twice.
    """
    definition = metric_definition_hash(metric)
    while True:
        with transaction.atomic():
            state = _state_locked(metric=metric, definition=definition)
            if state is None:
                return None
            snapshots = _keeps_snapshots(metric)
            if snapshots:
                _snapshots_extend(state=state, metric=metric)
            if state.watermark >= upto:
                return state.watermark
            first_id = _first_event_id_above(state.watermark)
            if first_id is None or first_id > upto:
                chunk_end = upto  # nothing in between to fold
            else:
                # Chunks start at the next existing id, so gaps in the id sequence (rolled-back
                # inserts, purges) cost nothing.
                chunk_end = min(upto, first_id - 1 + chunk_size)
                sql, params = rollup_refresh_sql(
                    metric, metric_id=metric.pk, id_above=state.watermark, id_upto=chunk_end
                )
                with connection.cursor() as cursor:
                    cursor.execute(sql, params)
                    if snapshots:
                        cursor.execute(
                            *snapshot_sql.fold_events_sql(
                                metric,
                                metric_id=metric.pk,
                                id_above=state.watermark,
                                id_upto=chunk_end,
                                through=state.snapshot_month,
                            )
                        )
            state.watermark = chunk_end
            state.refreshed_at = timezone.now()
            state.save(update_fields=["watermark", "refreshed_at"])


def _keeps_snapshots(metric: BillableMetric) -> bool:
    return metric.aggregation == UNIQUE_COUNT and is_recurring(metric)


def _snapshots_extend(*, state: UsageRollupState, metric: BillableMetric) -> None:
    """Brings the metric's monthly snapshots up to the current UTC month, at the state's
    watermark (the state row is locked): built from the rollup rows the first time, then rolled
    forward one month at a time."""
    current = snapshot_sql.month_floor(timezone.now())
    if state.snapshot_month is not None and state.snapshot_month >= current:
        return
    with connection.cursor() as cursor:
        if state.snapshot_month is None:
            cursor.execute(*snapshot_sql.fold_rollup_sql(metric_id=metric.pk, through=current))
        else:
            month = state.snapshot_month
            while month < current:
                following = snapshot_sql.month_next(month)
                cursor.execute(
                    *snapshot_sql.roll_forward_sql(
                        metric_id=metric.pk, month=following, previous=month
                    )
                )
                month = following
    state.snapshot_month = current
    state.save(update_fields=["snapshot_month"])


def _first_event_id_above(event_id: int) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id) FROM metering_event WHERE id > %s", [event_id])
        return cursor.fetchone()[0]


def _state_locked(*, metric: BillableMetric, definition: str) -> UsageRollupState | None:
    """The metric's rollup state, locked; None when another refresh holds it (that one does the
    work). Readers take no lock: they check the watermark inside their own statement."""
    UsageRollupState.objects.get_or_create(
        metric=metric,
        defaults={"definition_hash": definition, "watermark": 0, "refreshed_at": timezone.now()},
    )
    state = (
        UsageRollupState.objects.select_for_update(skip_locked=True).filter(metric=metric).first()
    )
    if state is None:
        return None
    if state.definition_hash != definition:
        for model in _ROLLUP_MODELS:
            model.objects.filter(metric=metric).delete()
        state.definition_hash = definition
        state.watermark = 0
        state.snapshot_month = None
        state.refreshed_at = timezone.now()
        state.save(update_fields=["definition_hash", "watermark", "snapshot_month", "refreshed_at"])
    return state


def usage_rollups_refresh(*, chunk_size: int = REFRESH_CHUNK_IDS) -> int:
    """Brings the rollup of every metric with one (see `aggregation.reads_rollup`) up to the latest
    safe event id and drops the rollups of metrics no longer aggregated that way. Idempotent;
    returns the watermark."""
    upto = usage_rollups_safe_watermark()
    metrics = [m for m in BillableMetric.objects.order_by("pk") if reads_rollup(m)]
    for metric in metrics:
        usage_rollup_refresh_metric(metric=metric, upto=upto, chunk_size=chunk_size)
    with transaction.atomic():
        stale = UsageRollupState.objects.exclude(metric_id__in=[m.pk for m in metrics])
        stale_ids = list(
            stale.select_for_update(of=("self",), skip_locked=True).values_list(
                "metric_id", flat=True
            )
        )
        if stale_ids:
            for model in _ROLLUP_MODELS:
                model.objects.filter(metric_id__in=stale_ids).delete()
            UsageRollupState.objects.filter(metric_id__in=stale_ids).delete()
    return upto
