"""Demo data of the catalog: the seed guide's plans, the metering demo's customers subscribed to
them, and one negotiated override.

Plans (all published, USD): Trial $1/week with a 7-day trial and 100 calls a day, Starter
$19/month with 1,000 calls, Professional $49/month with 10,000 calls and graduated LLM tokens,
Enterprise $99/month unlimited, Pay-as-you-go (tokens only), Team, a hybrid of a base fee,
seats and usage, Per seat ($12 a seat user a month, prorated by day, on a recurring metric) and
LLM by region (tokens priced per region filter and grouped by model, no default price).
Customers acme, globex, initech, umbrella, hooli, wonka and tyrell (whose usage events the
metering demo stored) subscribe on anniversary billing about a month ago.

Runs after metering's demo and is idempotent: a plan whose code exists is left as it is (an
operator may have changed it since), customers and subscriptions are found by their external
ids, and the override is created once. Everything goes through the catalog's services.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TextIO

from dateutil.relativedelta import relativedelta

from metering.models import Aggregation, BillableMetric
from metering.services import billable_metric_create
from plans.models import Feature, Plan, SubscriptionOverride
from plans.services import (
    charge_create,
    customer_create,
    feature_create,
    plan_create,
    plan_feature_set,
    plan_version_create_draft,
    plan_version_publish,
    subscription_create,
    subscription_override_create,
)

# The metrics the plans charge for; metering's demo normally created them already.
METRICS: dict[str, dict[str, Any]] = {
    "api_calls": {"name": "API calls", "aggregation": Aggregation.COUNT},
    "llm_tokens": {
        "name": "LLM token usage",
        "aggregation": Aggregation.SUM,
        "field_name": "tokens",
    },
    "chat_api_calls": {"name": "Chat API calls", "aggregation": Aggregation.COUNT},
    "seats": {"name": "Seats", "aggregation": Aggregation.MAX, "field_name": "seats"},
    "seat_users": {
        "name": "Seat users",
        "aggregation": Aggregation.UNIQUE_COUNT,
        "field_name": "user_id",
        "recurring": True,
    },
}

FEATURES: list[dict[str, Any]] = [
    {"slug": "api_calls", "name": "API calls", "kind": Feature.Kind.METERED, "metric": "api_calls"},
    {"slug": "sso", "name": "Single sign-on", "kind": Feature.Kind.BOOLEAN},
    {"slug": "max_projects", "name": "Projects", "kind": Feature.Kind.STATIC},
]


def _tiers(key: str, *rows: tuple[int, int | None, str]) -> dict[str, Any]:
    return {
        key: [
            {"from_value": start, "to_value": end, "per_unit_amount": price, "flat_amount": "0"}
            for start, end, price in rows
        ]
    }


# The Lago guide's token pricing: the first million free, then $0.002 and $0.001 per 1K tokens.
LLM_TOKENS_GRADUATED = _tiers(
    "graduated_ranges",
    (0, 1_000_000, "0"),
    (1_000_001, 10_000_000, "0.000002"),
    (10_000_001, None, "0.000001"),
)


@dataclass(frozen=True)
class ChargeSpec:
    metric: str
    model: str
    properties: dict[str, Any]
    name: str
    min_amount: Decimal | None = None
    filters: tuple[dict[str, Any], ...] = ()
    prorated: bool = False


@dataclass(frozen=True)
class PlanSpec:
    code: str
    name: str
    description: str
    base_fee: str
    interval: str = "month"
    trial_days: int = 0
    charges: tuple[ChargeSpec, ...] = ()
    features: dict[str, dict[str, Any]] = field(default_factory=dict)


PLANS: tuple[PlanSpec, ...] = (
    PlanSpec(
        code="trial",
        name="Trial",
        description="A week to try the API: 100 calls a day.",
        base_fee="1.00",
        interval="week",
        trial_days=7,
        charges=(
            ChargeSpec("api_calls", "standard", {"amount": "0.01", "free_units": 700}, "API calls"),
        ),
        features={
            "api_calls": {"limit": Decimal(100), "reset_period": "day", "cap": "hard"},
            "max_projects": {"value": 1},
        },
    ),
    PlanSpec(
        code="starter",
        name="Starter",
        description="1,000 API calls a month, bring your own key, email support.",
        base_fee="19.00",
        charges=(
            ChargeSpec(
                "api_calls",
                "graduated",
                _tiers("graduated_ranges", (0, 1_000, "0"), (1_001, None, "0.01")),
                "API calls beyond the 1,000 included",
            ),
        ),
        features={
            "api_calls": {"limit": Decimal(1_000), "cap": "soft"},
            "max_projects": {"value": 3},
        },
    ),
    PlanSpec(
        code="professional",
        name="Professional",
        description="Best for professionals and small teams: 10,000 API calls, all services.",
        base_fee="49.00",
        charges=(
            ChargeSpec(
                "api_calls",
                "graduated",
                _tiers("graduated_ranges", (0, 10_000, "0"), (10_001, None, "0.001")),
                "API calls beyond the 10,000 included",
            ),
            ChargeSpec("llm_tokens", "graduated", LLM_TOKENS_GRADUATED, "LLM tokens"),
        ),
        features={
            "api_calls": {"limit": Decimal(10_000), "cap": "soft"},
            "max_projects": {"value": 10},
        },
    ),
    PlanSpec(
        code="enterprise",
        name="Enterprise",
        description="Unlimited usage, teams, single sign-on, custom integrations.",
        base_fee="99.00",
        features={
            "api_calls": {"limit": None},
            "sso": {"enabled": True},
            "max_projects": {"value": 100},
        },
    ),
    PlanSpec(
        code="payg",
        name="Pay as you go",
        description="No monthly fee: $0.002 per 1K LLM tokens used.",
        base_fee="0",
        charges=(ChargeSpec("llm_tokens", "standard", {"amount": "0.000002"}, "LLM tokens"),),
        features={"max_projects": {"value": 3}},
    ),
    PlanSpec(
        code="team",
        name="Team (hybrid)",
        description="A base fee with 5 seats included, then seats, tokens and chat by usage.",
        base_fee="29.00",
        charges=(
            ChargeSpec("seats", "standard", {"amount": "8.00", "free_units": 5}, "Extra seats"),
            ChargeSpec(
                "llm_tokens",
                "package",
                {"amount": "2.00", "package_size": 1_000_000},
                "LLM tokens (per million)",
                min_amount=Decimal("5.00"),
            ),
            ChargeSpec(
                "chat_api_calls",
                "volume",
                _tiers("volume_ranges", (0, 10_000, "0.002"), (10_001, None, "0.001")),
                "Chat API calls",
            ),
        ),
        features={
            "api_calls": {"limit": Decimal(25_000), "cap": "soft"},
            "max_projects": {"value": 25},
        },
    ),
    PlanSpec(
        code="per-seat",
        name="Per seat",
        description="$12 per seat a month, each seat billed for the days it was held.",
        base_fee="0",
        charges=(
            ChargeSpec(
                "seat_users",
                "standard",
                {"amount": "12.00"},
                "Seats (prorated by day)",
                prorated=True,
            ),
        ),
    ),
    PlanSpec(
        code="llm-regions",
        name="LLM by region",
        description="Tokens priced by region, on the invoice per model.",
        base_fee="0",
        charges=(
            ChargeSpec(
                "llm_tokens",
                "standard",
                {},
                "LLM tokens",
                filters=(
                    {
                        "values": {"region": ["eu"]},
                        "properties": {"amount": "0.000003", "grouped_by": ["model"]},
                        "invoice_display_name": "LLM tokens, EU",
                    },
                    {
                        "values": {"region": ["us"]},
                        "properties": {"amount": "0.000002", "grouped_by": ["model"]},
                        "invoice_display_name": "LLM tokens, US",
                    },
                ),
            ),
        ),
    ),
)

# customer external id -> (name, email, plan code, days after "a month ago" it started)
CUSTOMERS: dict[str, tuple[str, str, str, int]] = {
    "acme": ("Acme Corp", "billing@acme.example", "professional", 2),
    "globex": ("Globex Corporation", "ap@globex.example", "enterprise", 4),
    "initech": ("Initech", "finance@initech.example", "starter", 1),
    "umbrella": ("Umbrella Corp", "accounts@umbrella.example", "team", 3),
    "hooli": ("Hooli", "billing@hooli.example", "payg", 5),
    "wonka": ("Wonka Industries", "billing@wonka.example", "per-seat", 6),
    "tyrell": ("Tyrell Corporation", "ap@tyrell.example", "llm-regions", 2),
}


def load(stdout: TextIO) -> None:
    metrics = _metrics_ensure(stdout)
    features = _features_ensure(metrics)
    created = [spec.code for spec in PLANS if _plan_ensure(spec, metrics, features)]
    if created:
        stdout.write(f"Plans published: {', '.join(created)}\n")
    _customers_ensure(stdout)


def _metrics_ensure(stdout: TextIO) -> dict[str, BillableMetric]:
    metrics = {m.code: m for m in BillableMetric.objects.filter(code__in=METRICS)}
    for code, fields in METRICS.items():
        if code not in metrics:
            metrics[code] = billable_metric_create(code=code, **fields)
            stdout.write(f"Billable metric created for the plans: {code}\n")
    return metrics


def _features_ensure(metrics: dict[str, BillableMetric]) -> dict[str, Feature]:
    features = {f.slug: f for f in Feature.objects.filter(slug__in=[f["slug"] for f in FEATURES])}
    for spec in FEATURES:
        if spec["slug"] not in features:
            metric = metrics[spec["metric"]] if spec.get("metric") else None
            features[spec["slug"]] = feature_create(**{**spec, "metric": metric})
    return features


def _plan_ensure(
    spec: PlanSpec, metrics: dict[str, BillableMetric], features: dict[str, Feature]
) -> bool:
    if Plan.objects.filter(code=spec.code).exists():
        return False
    plan = plan_create(code=spec.code, name=spec.name, description=spec.description)
    version = plan_version_create_draft(
        plan=plan,
        currency="USD",
        interval=spec.interval,
        base_fee=Decimal(spec.base_fee),
        base_fee_in_advance=True,
        trial_days=spec.trial_days,
        invoice_grace_days=1,
        net_payment_days=14,
    )
    for position, charge in enumerate(spec.charges, start=1):
        charge_create(
            version=version,
            metric=metrics[charge.metric],
            charge_model=charge.model,
            properties=charge.properties,
            invoice_display_name=charge.name,
            min_amount=charge.min_amount,
            filters=charge.filters,
            prorated=charge.prorated,
            position=position,
        )
    for slug, value in spec.features.items():
        plan_feature_set(version=version, feature=features[slug], **value)
    plan_version_publish(version=version)
    return True


def _customers_ensure(stdout: TextIO) -> None:
    month_ago = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    month_ago -= relativedelta(months=1)
    subscribed = []
    for external_id, (name, email, plan_code, days) in CUSTOMERS.items():
        customer, _ = customer_create(external_id=external_id, name=name, email=email)
        plan = Plan.objects.get(code=plan_code)
        started_at = month_ago + timedelta(days=days, hours=9)
        subscription, created = subscription_create(
            customer=customer,
            plan=plan,
            external_id=f"{external_id}-{plan_code}",
            started_at=started_at,
            billing_time="anniversary",
        )
        if created:
            subscribed.append(f"{external_id} → {plan_code}")
        if (
            external_id == "acme"
            and not subscription.overrides.filter(kind=SubscriptionOverride.Kind.BASE_FEE).exists()
        ):
            subscription_override_create(
                subscription=subscription,
                kind=SubscriptionOverride.Kind.BASE_FEE,
                value={"amount": "39.00"},
                valid_from=subscription.started_at,
                valid_until=subscription.started_at + relativedelta(months=3),
                reason="negotiated discount",
            )
            stdout.write("Override: acme pays a $39 base fee for its first 3 months.\n")
    if subscribed:
        stdout.write(f"Subscriptions created: {', '.join(subscribed)}\n")
