"""The event store and what it is aggregated by.

Every key and hot index on the event table leads with `customer_id`, so the table can be
distributed by customer (Citus) without changing a query (DESIGN.md, "Growing past one machine").
"""

from decimal import Decimal, InvalidOperation

from django.contrib.postgres.indexes import BrinIndex
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

METRIC_CODE_VALIDATOR = RegexValidator(
    r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$",
    "Use a lowercase slug: letters, digits, and '-', '_' or '.' between them "
    "(api-call, llm_tokens, api-call.v2).",
)


class Aggregation(models.TextChoices):
    COUNT = "count", "Count of events"
    SUM = "sum", "Sum of a property"
    MAX = "max", "Maximum of a property"
    LAST = "last", "Latest value of a property"
    UNIQUE_COUNT = "unique_count", "Count of distinct values of a property"
    WEIGHTED_SUM = "weighted_sum", "Time-weighted value of a gauge"


class WeightedSumMode(models.TextChoices):
    LEVEL = "level", "Level: each event is the gauge's new value"
    CHANGE = "change", "Change: each event adds to the running total (Lago)"


class Rounding(models.TextChoices):
    NONE = "none", "No rounding"
    ROUND = "round", "Round half up"
    CEIL = "ceil", "Round up"
    FLOOR = "floor", "Round down"


NUMERIC_AGGREGATIONS = {
    Aggregation.SUM,
    Aggregation.MAX,
    Aggregation.LAST,
    Aggregation.WEIGHTED_SUM,
}


RECURRING_AGGREGATIONS = {
    Aggregation.COUNT,
    Aggregation.SUM,
    Aggregation.UNIQUE_COUNT,
    Aggregation.WEIGHTED_SUM,
}


class BillableMetric(models.Model):
    code = models.CharField(max_length=100, unique=True, validators=[METRIC_CODE_VALIDATOR])
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    aggregation = models.CharField(max_length=20, choices=Aggregation.choices)
    field_name = models.CharField(
        "property",
        max_length=100,
        blank=True,
        help_text="The event property this metric reads (all aggregations but count).",
    )
    filters = models.JSONField(
        default=dict,
        blank=True,
        help_text='Only events matching: {"model": ["gpt-4o", "gpt-4o-mini"], "region": ["eu"]} '
        "(AND across keys, OR within a key's values).",
    )
    weights = models.JSONField(
        null=True,
        blank=True,
        help_text='For sum: weigh each event by a property\'s value, e.g. {"property": "tier", '
        '"values": {"premium": 2}, "default": 1}.',
    )
    recurring = models.BooleanField(
        default=False,
        help_text="The value carries across billing periods instead of restarting at zero "
        "(Lago's recurring): count and sum total every event since the start; unique_count "
        "keeps the values added and not removed (event property operation_type: add or "
        "remove); weighted_sum in change mode carries its running total.",
    )
    weighted_sum_mode = models.CharField(
        "weighted-sum value mode",
        max_length=10,
        choices=WeightedSumMode.choices,
        default=WeightedSumMode.LEVEL,
        help_text="For weighted_sum: what an event's value means, the gauge's new level "
        "(e.g. seats: 5, then 7) or a change to it (Lago's semantics: +2, -1).",
    )
    rounding = models.CharField(max_length=10, choices=Rounding.choices, default=Rounding.NONE)
    rounding_precision = models.SmallIntegerField(
        default=0,
        help_text="Decimal places kept when rounding; negative rounds to tens (-1), "
        "hundreds (-2)...",
    )
    archived_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Archived metrics are offered to no new charge; where used, they are still "
        "billed.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if self.aggregation != Aggregation.COUNT and not self.field_name:
            errors.setdefault("field_name", []).append(
                f"A {self.aggregation} metric needs the property it reads."
            )
        if self.aggregation == Aggregation.COUNT and self.field_name:
            errors.setdefault("field_name", []).append("A count metric reads no property.")
        if not isinstance(self.filters, dict) or not all(
            isinstance(key, str)
            and isinstance(values, list)
            and values
            and all(isinstance(v, str | int | float | bool) for v in values)
            for key, values in (self.filters or {}).items()
        ):
            errors.setdefault("filters", []).append(
                'Filters are an object of property → non-empty list of values, e.g. {"model": '
                '["gpt-4o"]}.'
            )
        if self.weights is not None:
            if self.aggregation != Aggregation.SUM:
                errors.setdefault("weights", []).append("Only a sum metric can weigh events.")
            elif not _weights_valid(self.weights):
                errors.setdefault("weights", []).append(
                    'Weights are {"property": "tier", "values": {"premium": 2}, "default": 1} '
                    "with non-negative numbers."
                )
        if self.weighted_sum_mode != WeightedSumMode.LEVEL and (
            self.aggregation != Aggregation.WEIGHTED_SUM
        ):
            errors.setdefault("weighted_sum_mode", []).append(
                "Only a weighted_sum metric reads its values as changes."
            )
        if self.recurring and self.aggregation not in RECURRING_AGGREGATIONS:
            errors.setdefault("recurring", []).append(
                "Only count, sum, unique_count and weighted_sum metrics can be recurring."
            )
        if not -12 <= self.rounding_precision <= 12:
            errors.setdefault("rounding_precision", []).append(
                "Use a precision between -12 and 12."
            )
        if self.rounding == Rounding.NONE and self.rounding_precision:
            errors.setdefault("rounding_precision", []).append(
                "Choose a rounding mode to use a precision."
            )
        if errors:
            raise ValidationError(errors)


def _weights_valid(weights: object) -> bool:
    from decimal import Decimal, InvalidOperation

    if not isinstance(weights, dict) or set(weights) - {"property", "values", "default"}:
        return False
    if not isinstance(weights.get("property"), str) or not weights["property"]:
        return False
    numbers = list((weights.get("values") or {}).values()) + [weights.get("default", 1)]
    if not isinstance(weights.get("values", {}), dict):
        return False
    try:
        return all(Decimal(str(n)) >= 0 for n in numbers if not isinstance(n, bool))
    except InvalidOperation:
        return False


class Event(models.Model):
    """One usage event. Unique on (customer_id, transaction_id) forever, whatever its timestamp.

    Keys for Citus (distribution by `customer_id`, which must be in every primary key and unique
    constraint of a distributed table): in the database, the unique (customer_id,
    transaction_id) below is the primary key (migration 0004) and `id` has a BRIN index only;
    Django's pk stays `id` (ids come from one identity sequence, so `id` alone still names one
    event, and the admin cannot work with a composite pk). Lookups by id (an event's admin page,
    the rollup refresh's id ranges) go through the BRIN index, which costs inserts almost
    nothing: events are appended in id order, so each block range covers a narrow span of ids.
    """

    customer_id = models.CharField(max_length=255, help_text="The customer's external id.")
    transaction_id = models.CharField(max_length=255)
    code = models.CharField(max_length=100, help_text="The billable metric's code.")
    subscription_id = models.CharField(max_length=255, blank=True)
    member_id = models.CharField(
        max_length=255,
        blank=True,
        help_text="The member (e.g. seat user) id the event was sent with.",
    )
    timestamp = models.DateTimeField()
    received_at = models.DateTimeField()
    properties = models.JSONField(default=dict)
    payload_hash = models.CharField(
        max_length=32, help_text="Hash of the event as sent; tells a duplicate from a conflict."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer_id", "transaction_id"],
                name="metering_event_customer_transaction_uniq",
            )
        ]
        indexes = [
            models.Index(
                fields=["customer_id", "code", "timestamp"], name="metering_event_usage_idx"
            ),
            BrinIndex(fields=["id"], name="metering_event_id_brin", autosummarize=True),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.customer_id}/{self.transaction_id}"


class CustomerAlias(models.Model):
    """Maps an id that events may carry to a customer's external id: the customer's own id
    (kind "customer") or one of its members', such as a seat user (kind "member").

    The catalog keeps it in step with its customers; ingest resolves ids through it.
    """

    class Kind(models.TextChoices):
        CUSTOMER = "customer"
        MEMBER = "member"

    alias_id = models.CharField(max_length=255, unique=True)
    customer_id = models.CharField(max_length=255, db_index=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "customer aliases"

    def __str__(self) -> str:
        return f"{self.alias_id} → {self.customer_id}"


class UnknownCustomer(models.Model):
    """Customer ids seen in accepted events that no customer has (yet)."""

    customer_id = models.CharField(max_length=255, unique=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    event_count = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return self.customer_id


class IngestRejection(models.Model):
    """An event refused at ingest, with the field and reason, kept for the operator."""

    received_at = models.DateTimeField(db_index=True)
    api_key_prefix = models.CharField(max_length=16, blank=True)
    customer_id = models.CharField(max_length=255, blank=True)
    transaction_id = models.CharField(max_length=255, blank=True)
    code = models.CharField(max_length=100, blank=True)
    field = models.CharField(max_length=100)
    reason = models.TextField()
    payload = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


class UnboundedDecimalField(models.Field):
    """PostgreSQL `numeric` without precision or scale, so stored totals stay exact whatever the
    scale of the values summed."""

    description = "Decimal number of any precision"

    def db_type(self, connection: object) -> str:
        return "numeric"

    def to_python(self, value: object) -> Decimal | None:
        if value is None or isinstance(value, Decimal):
            return value
        try:
            return Decimal(str(value))
        except InvalidOperation as exc:
            raise ValidationError(f"{value!r} is not a number.") from exc

    def get_prep_value(self, value: object) -> Decimal | None:
        return self.to_python(super().get_prep_value(value))


class UsageRollup(models.Model):
    """One customer's daily totals for one count/sum/max metric, built by SQL from the events with
    ids up to the metric's watermark (`UsageRollupState`); see `metering/rollups.py`.

    `event_count` counts the events that contributed (for sum/max: those with a numeric value);
    `value_sum` is the (weighted) sum, `value_max` the maximum.
    """

    pk = models.CompositePrimaryKey("customer_id", "metric", "bucket")
    customer_id = models.CharField(max_length=255)
    metric = models.ForeignKey(
        BillableMetric, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    bucket = models.DateTimeField(help_text="Start of the UTC day.")
    event_count = models.BigIntegerField()
    value_sum = UnboundedDecimalField(null=True)
    value_max = UnboundedDecimalField(null=True)

    def __str__(self) -> str:
        return f"{self.customer_id} {self.metric_id} {self.bucket:%Y-%m-%d}"


class UsageRollupState(models.Model):
    """How far a metric's rollup has read the event table: every event with `id <= watermark`
    (and none above) is in its `UsageRollup` rows, built for the metric definition whose hash is
    `definition_hash` (a changed definition rebuilds the rollup)."""

    metric = models.OneToOneField(
        BillableMetric, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    definition_hash = models.CharField(max_length=64)
    watermark = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField()
    # Recurring unique_count metrics only: the latest month start with `UsageDistinctSnapshot`
    # rows (every month start up to it has them, for the same watermark); NULL until built.
    snapshot_month = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.metric_id} up to event {self.watermark}"


class UsageDistinctRollup(models.Model):
    """The distinct values of a unique_count metric's property per customer and UTC day, with the
    number of contributing events that carried each (and, for a recurring metric, how the day
    left each value), built by SQL from the events with ids up to
    the metric's watermark (`UsageRollupState`); see `metering/rollups.py`."""

    pk = models.CompositePrimaryKey("customer_id", "metric", "bucket", "value")
    customer_id = models.CharField(max_length=255)
    metric = models.ForeignKey(
        BillableMetric, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    bucket = models.DateTimeField(help_text="Start of the UTC day.")
    value = models.TextField()
    event_count = models.BigIntegerField()
    # Recurring unique_count metrics only (NULL otherwise): whether any event of the day added
    # the value, and the day's last event of the value (by timestamp, received_at, id), whose
    # operation is the value's state at the end of the day.
    added = models.BooleanField(null=True)
    last_at = models.DateTimeField(null=True)
    last_received_at = models.DateTimeField(null=True)
    last_id = models.BigIntegerField(null=True)
    last_op = models.CharField(max_length=6, blank=True, db_default="")

    def __str__(self) -> str:
        return f"{self.customer_id} {self.metric_id} {self.bucket:%Y-%m-%d} {self.value}"


class UsageDistinctSnapshot(models.Model):
    """A recurring unique_count metric's state at the start of a UTC month: per customer and
    value, the latest event of the value before `month` (by timestamp, received_at, id) among
    the events with ids up to the metric's watermark (`UsageRollupState`), kept by the rollup
    refresh for every month start up to the state's `snapshot_month`.

    A period's carried-in state then reads one month's snapshot and the daily rollup rows since
    it, not the whole history. Removed values stay (with `last_op` 'remove'), so that a late
    event older than the removal cannot bring the value back; see
    `metering/aggregation/snapshot_sql.py`."""

    pk = models.CompositePrimaryKey("customer_id", "metric", "month", "value")
    customer_id = models.CharField(max_length=255)
    metric = models.ForeignKey(
        BillableMetric, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    month = models.DateTimeField(help_text="Start of the UTC month; the state just before it.")
    value = models.TextField()
    last_at = models.DateTimeField()
    last_received_at = models.DateTimeField()
    last_id = models.BigIntegerField()
    last_op = models.CharField(max_length=6)

    def __str__(self) -> str:
        return f"{self.customer_id} {self.metric_id} {self.month:%Y-%m} {self.value}"


class UsageGaugeRollup(models.Model):
    """One customer's day of a weighted_sum metric (a gauge), from that day's own events with ids
    up to the metric's watermark (`UsageRollupState`); see `metering/rollups.py`.

    `first_at` is the time of the day's first event; `area` is Σ value × seconds each value held
    from `first_at` to the end of the day (each until the next event of the day, the last until
    midnight); `last_value` is the value of the day's last event (ordered by timestamp,
    received_at, id), which holds into the following days until the next event.
    """

    pk = models.CompositePrimaryKey("customer_id", "metric", "bucket")
    customer_id = models.CharField(max_length=255)
    metric = models.ForeignKey(
        BillableMetric, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    bucket = models.DateTimeField(help_text="Start of the UTC day.")
    event_count = models.BigIntegerField()
    first_at = models.DateTimeField()
    area = UnboundedDecimalField()
    last_value = UnboundedDecimalField()

    def __str__(self) -> str:
        return f"{self.customer_id} {self.metric_id} {self.bucket:%Y-%m-%d}"


class EventActivityCount(models.Model):
    """How many events were stored per minute of receipt, for the dashboard's events-per-minute
    chart: kept by the ingest statement itself (same transaction, no extra round trip), so the
    chart never scans the event table.

    A minute has up to `ACTIVITY_SHARDS` rows, one per shard (the ingesting connection's backend
    pid modulo the shard count), so concurrent batches add to different rows instead of waiting
    on one row's lock until the other commits; a reader sums the shards. Rows older than
    `ACTIVITY_KEEP` are pruned by a beat task.
    """

    pk = models.CompositePrimaryKey("minute", "shard")
    minute = models.DateTimeField(help_text="Start of the UTC minute the events were received in.")
    shard = models.SmallIntegerField()
    event_count = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.minute:%Y-%m-%d %H:%M} #{self.shard}: {self.event_count}"
