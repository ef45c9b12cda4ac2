"""The catalog and who bought it.

Invariants that rows can hold are constraints here; rules across rows (a published version is
immutable, a charge's properties are valid for its model, a member id is nobody else's id) are
enforced by the services in ``plans/services/``.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from billing_site.core.money import (
    CURRENCY_CODE_REGEX,
    CURRENCY_VALIDATOR,
    MONEY_DECIMAL_PLACES,
    MONEY_MAX_DIGITS,
)
from metering.models import BillableMetric
from plans.pricing import CHARGE_MODELS


class Customer(models.Model):
    external_id = models.CharField(
        max_length=255, unique=True, help_text="The id your systems and usage events use."
    )
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    currency = models.CharField(
        max_length=3,
        blank=True,
        validators=[CURRENCY_VALIDATOR],
        help_text="ISO 4217. Blank until the first subscription sets it.",
    )
    metadata = models.JSONField(default=dict, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["external_id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(external_id=""), name="plans_customer_external_id_not_blank"
            ),
            models.CheckConstraint(
                condition=Q(currency="") | Q(currency__regex=CURRENCY_CODE_REGEX),
                name="plans_customer_currency_iso",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.external_id})" if self.name else self.external_id

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def clean(self) -> None:
        if not isinstance(self.metadata, dict):
            raise ValidationError({"metadata": ["Metadata must be a JSON object."]})


class CustomerMember(models.Model):
    """An id (such as a seat user's) whose usage events bill to the customer."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="members")
    member_id = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["member_id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(member_id=""), name="plans_customermember_member_id_not_blank"
            )
        ]

    def __str__(self) -> str:
        return self.member_id


class Interval(models.TextChoices):
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class Plan(models.Model):
    code = models.SlugField(max_length=100, unique=True, help_text="e.g. professional")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class PlanVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"
        PUBLISHED = "published"
        ARCHIVED = "archived"

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    currency = models.CharField(max_length=3, validators=[CURRENCY_VALIDATOR], default="USD")
    interval = models.CharField(max_length=10, choices=Interval.choices, default=Interval.MONTH)
    base_fee = models.DecimalField(
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        default=0,
        validators=[MinValueValidator(0)],
    )
    base_fee_in_advance = models.BooleanField(
        default=False, help_text="Invoice the base fee at the start of the period, not the end."
    )
    trial_days = models.PositiveIntegerField(default=0)
    invoice_grace_days = models.PositiveIntegerField(
        default=0, help_text="Days a draft invoice stays editable before it is finalized."
    )
    net_payment_days = models.PositiveIntegerField(
        default=0, help_text="Days after finalization before an invoice is due."
    )
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["plan__code", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="plans_version_number_uniq"),
            models.UniqueConstraint(
                fields=["plan"],
                condition=Q(status="draft"),
                name="plans_version_one_draft_per_plan",
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="plans_version_number_gte_1"),
            models.CheckConstraint(
                condition=Q(base_fee__gte=0), name="plans_version_base_fee_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=CURRENCY_CODE_REGEX), name="plans_version_currency_iso"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False),
                name="plans_version_published_has_published_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan.code} v{self.number} ({self.status})"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT


class Charge(models.Model):
    class ChargeModel(models.TextChoices):
        STANDARD = "standard"
        PACKAGE = "package"
        GRADUATED = "graduated"
        VOLUME = "volume"
        PERCENTAGE = "percentage"

    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="charges")
    metric = models.ForeignKey(BillableMetric, on_delete=models.PROTECT, related_name="+")
    charge_model = models.CharField(max_length=20, choices=ChargeModel.choices)
    properties = models.JSONField(
        default=dict, blank=True, help_text="Lago-compatible properties of the charge model."
    )
    invoice_display_name = models.CharField(max_length=200, blank=True)
    filters = models.JSONField(
        default=list,
        blank=True,
        help_text="Lago's charge filters: [{values: {property: [values]}, properties: {...}, "
        "invoice_display_name}], each pricing the events it matches (the most specific filter "
        "wins); the charge's own properties price the rest (none when left empty).",
    )
    prorated = models.BooleanField(
        default=False,
        help_text="Bill each unit for the days of the period it was active (Lago's prorated; "
        "recurring sum or unique_count metrics, standard, graduated or volume charges).",
    )
    pay_in_advance = models.BooleanField(
        "paid in advance",
        default=False,
        help_text="Bill each event as it arrives, on a fee invoice, instead of at the period's "
        "end (Lago's pay_in_advance; count, sum or unique_count metrics that are not recurring; "
        "standard, package or graduated charges without filters or groups).",
    )
    min_amount = models.DecimalField(
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Spending minimum per period: the line is raised to it when usage costs less.",
    )
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["version", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "metric"], name="plans_charge_one_per_metric_per_version"
            ),
            models.CheckConstraint(
                condition=Q(charge_model__in=CHARGE_MODELS), name="plans_charge_model_known"
            ),
            models.CheckConstraint(
                condition=Q(min_amount__isnull=True) | Q(min_amount__gte=0),
                name="plans_charge_min_amount_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.invoice_display_name or f"{self.metric.code} ({self.charge_model})"


class Feature(models.Model):
    class Kind(models.TextChoices):
        BOOLEAN = "boolean", "Boolean (access)"
        STATIC = "static", "Static value"
        METERED = "metered", "Metered (limit on a metric)"

    slug = models.SlugField(max_length=100, unique=True, help_text="What code checks, e.g. sso.")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    metric = models.ForeignKey(
        BillableMetric,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The metric a metered feature counts.",
    )
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="metered") & Q(metric__isnull=False))
                | (~Q(kind="metered") & Q(metric__isnull=True)),
                name="plans_feature_metric_iff_metered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"


class ResetPeriod(models.TextChoices):
    BILLING = "billing", "Each billing period"
    DAY = "day", "Each day"
    WEEK = "week", "Each week"
    MONTH = "month", "Each month"
    NEVER = "never", "Never (lifetime)"


class CapKind(models.TextChoices):
    HARD = "hard", "Hard: refuse beyond the limit"
    SOFT = "soft", "Soft: allow and bill overage"


def default_alert_thresholds() -> list[int]:
    return [80, 100]


class PlanFeature(models.Model):
    """A feature's value on a plan version: ``enabled`` (boolean), ``value`` (static), or
    ``limit`` / ``reset_period`` / ``cap`` (metered; a null limit is unlimited)."""

    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="features")
    feature = models.ForeignKey(Feature, on_delete=models.PROTECT, related_name="plan_features")
    enabled = models.BooleanField(default=True)
    value = models.JSONField(null=True, blank=True, help_text="A static feature's value.")
    limit = models.DecimalField(
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Units allowed per reset period; blank for unlimited.",
    )
    reset_period = models.CharField(
        max_length=10, choices=ResetPeriod.choices, default=ResetPeriod.BILLING
    )
    cap = models.CharField(max_length=4, choices=CapKind.choices, default=CapKind.HARD)
    alert_thresholds = ArrayField(
        models.PositiveSmallIntegerField(),
        default=default_alert_thresholds,
        blank=True,
        help_text="Percents of the limit plus credits at which a usage alert fires, once per "
        "window (e.g. 80, 100).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["version", "feature__slug"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "feature"], name="plans_planfeature_one_per_version"
            ),
            models.CheckConstraint(
                condition=Q(limit__isnull=True) | Q(limit__gte=0),
                name="plans_planfeature_limit_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.feature.slug} on {self.version}"


class BillingTime(models.TextChoices):
    ANNIVERSARY = "anniversary", "Anniversary (periods start on the subscription's day)"
    CALENDAR = "calendar", "Calendar (periods start on the 1st, weeks on Monday)"


class Subscription(models.Model):
    class Status(models.TextChoices):
        TRIALING = "trialing"
        ACTIVE = "active"
        CANCELED = "canceled", "Canceled (terminated before its period ended)"
        ENDED = "ended", "Ended (ran to the end of its last period)"

    external_id = models.CharField(max_length=255, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="subscriptions")
    version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(max_length=10, choices=Status.choices)
    billing_time = models.CharField(
        max_length=12, choices=BillingTime.choices, default=BillingTime.ANNIVERSARY
    )
    started_at = models.DateTimeField()
    trial_ends_at = models.DateTimeField(null=True, blank=True)
    billing_anchor = models.DateTimeField(
        help_text="Periods are computed from this instant (the start, or the last interval change)."
    )
    current_period_start = models.DateTimeField()
    current_period_end = models.DateTimeField()
    cancel_at_period_end = models.BooleanField(default=False)
    canceled_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    scheduled_version = models.ForeignKey(
        PlanVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="scheduled_subscriptions",
    )
    scheduled_change_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(external_id=""), name="plans_subscription_external_id_not_blank"
            ),
            models.CheckConstraint(
                condition=Q(current_period_start__lt=F("current_period_end")),
                name="plans_subscription_period_start_before_end",
            ),
            models.CheckConstraint(
                condition=Q(scheduled_version__isnull=True, scheduled_change_at__isnull=True)
                | Q(scheduled_version__isnull=False, scheduled_change_at__isnull=False),
                name="plans_subscription_scheduled_change_complete",
            ),
            models.CheckConstraint(
                condition=Q(trial_ends_at__isnull=True) | Q(trial_ends_at__gt=F("started_at")),
                name="plans_subscription_trial_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="plans_subscription_ended_after_start",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["trialing", "active"]) | Q(ended_at__isnull=False),
                name="plans_subscription_finished_has_ended_at",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "current_period_end"], name="plans_sub_due_idx"),
        ]

    def __str__(self) -> str:
        return self.external_id

    @property
    def is_live(self) -> bool:
        return self.status in (self.Status.TRIALING, self.Status.ACTIVE)


class SubscriptionOverride(models.Model):
    """One subscription's exception to its plan version, optionally for ``[valid_from,
    valid_until)``. ``value`` by kind: base_fee ``{"amount": "39.00"}``; charge ``{"charge_model",
    "properties", "min_amount"?}`` (applies to the charge of the same metric on whichever version
    the subscription is on); feature ``{"enabled"}`` / ``{"value"}`` / ``{"limit", "reset_period"?,
    "cap"?}``; credit: an allowance read by the credits app."""

    class Kind(models.TextChoices):
        BASE_FEE = "base_fee", "Base fee"
        CHARGE = "charge", "Charge properties"
        FEATURE = "feature", "Feature value"
        CREDIT = "credit", "Credit allowance"

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="overrides"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    charge = models.ForeignKey(
        Charge, null=True, blank=True, on_delete=models.PROTECT, related_name="overrides"
    )
    feature = models.ForeignKey(
        Feature, null=True, blank=True, on_delete=models.PROTECT, related_name="overrides"
    )
    value = models.JSONField(default=dict, blank=True)
    valid_from = models.DateTimeField(null=True, blank=True, help_text="Inclusive; blank: always.")
    valid_until = models.DateTimeField(
        null=True, blank=True, help_text="Exclusive; blank: until ended."
    )
    reason = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_label = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["subscription", "kind", "-valid_from", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_from__lt=F("valid_until")),
                name="plans_override_valid_from_before_until",
            ),
            models.CheckConstraint(
                condition=(Q(kind="base_fee") & Q(charge__isnull=True) & Q(feature__isnull=True))
                | (Q(kind="charge") & Q(charge__isnull=False) & Q(feature__isnull=True))
                | (Q(kind="feature") & Q(charge__isnull=True) & Q(feature__isnull=False))
                | (Q(kind="credit") & Q(charge__isnull=True)),
                name="plans_override_kind_target",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="plans_override_reason_given"),
        ]

    def __str__(self) -> str:
        target = self.charge or self.feature
        return f"{self.get_kind_display()} override" + (f" on {target}" if target else "")
