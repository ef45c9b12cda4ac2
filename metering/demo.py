"""Demo data of metering: the seed guides' billable metrics and a month of usage events.

Five customers with different profiles send events over the 30 days up to today (UTC midnight):
acme (a large team, heavy LLM use), globex (agents), initech (a small, quiet team), umbrella
(storage and API calls), hooli (a start-up whose usage grows through the month), wonka (billed per
seat: seat users added and removed, a recurring metric) and tyrell (LLM tokens in two regions
across models). LLM token events carry the user's region (odd users eu, even us). The events are
drawn from a fixed seed with deterministic transaction ids and go through the ingest service, which
stores each (customer, transaction id) once; a second run changes nothing.
"""

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TextIO

from metering.models import Aggregation, BillableMetric, Event
from metering.services import billable_metric_create, usage_events_ingest

SEED = 20260301
DAYS = 30
BATCH = 1000

METRICS: list[dict[str, Any]] = [
    {
        "code": "llm_tokens",
        "name": "LLM token usage",
        "description": "Tokens consumed through the LLM API (litellm).",
        "aggregation": Aggregation.SUM,
        "field_name": "tokens",
    },
    {
        "code": "chat_api_calls",
        "name": "Chat API calls",
        "description": "Chat completion requests (Open-WebUI).",
        "aggregation": Aggregation.COUNT,
    },
    {
        "code": "agent_invocations",
        "name": "Agent invocations",
        "description": "Agent runs (Brigade).",
        "aggregation": Aggregation.COUNT,
    },
    {
        "code": "storage_gb_hours",
        "name": "Storage usage",
        "description": "GB-hours of storage, reported once a day.",
        "aggregation": Aggregation.SUM,
        "field_name": "gb_hours",
    },
    {
        "code": "active_users",
        "name": "Active users",
        "description": "Distinct users seen in the period.",
        "aggregation": Aggregation.UNIQUE_COUNT,
        "field_name": "user_id",
    },
    {
        "code": "seats",
        "name": "Seats",
        "description": "Provisioned seats; the highest count of the period is billed.",
        "aggregation": Aggregation.MAX,
        "field_name": "seats",
    },
    {
        "code": "api_calls",
        "name": "API calls",
        "description": "Calls to the public API.",
        "aggregation": Aggregation.COUNT,
    },
    {
        "code": "seat_users",
        "name": "Seat users",
        "description": "Users holding a seat: added, then removed with operation_type remove; "
        "a seat carries over from one period to the next until removed.",
        "aggregation": Aggregation.UNIQUE_COUNT,
        "field_name": "user_id",
        "recurring": True,
    },
]

MODELS = ("openai/gpt-4o-mini", "openai/gpt-4o", "anthropic/claude-3-5-sonnet")
AGENTS = ("support-bot", "researcher", "code-reviewer")


@dataclass(frozen=True)
class Profile:
    """Average daily events of one customer; `growth` multiplies the last day's volume."""

    users: int
    seats: tuple[int, ...]  # the seat count, changing at even steps through the month
    llm_calls: float = 0
    chat_calls: float = 0
    agent_runs: float = 0
    api_calls: float = 0
    storage_gb: int = 0
    growth: float = 1.0
    # Seat users: (user number, day of the month it leaves, day it comes back or None).
    seat_leavers: tuple[tuple[int, int, int | None], ...] = ()


PROFILES: dict[str, Profile] = {
    "acme": Profile(users=25, seats=(20, 25), llm_calls=30, chat_calls=25, storage_gb=40),
    "globex": Profile(users=8, seats=(8,), llm_calls=6, agent_runs=20, api_calls=5),
    "initech": Profile(users=3, seats=(3,), llm_calls=2, chat_calls=4, api_calls=1),
    "umbrella": Profile(users=12, seats=(10, 12), chat_calls=3, api_calls=25, storage_gb=250),
    "hooli": Profile(
        users=6, seats=(2, 4, 6), llm_calls=6, chat_calls=6, agent_runs=3, api_calls=10, growth=4
    ),
    "wonka": Profile(
        users=9, seats=(6, 9), chat_calls=8, seat_leavers=((2, 12, None), (5, 18, 26))
    ),
    "tyrell": Profile(users=10, seats=(10,), llm_calls=40),
}
REGIONS = ("us", "eu")


def load(stdout: TextIO) -> None:
    created = _metrics_ensure()
    if created:
        stdout.write(f"Billable metrics created: {', '.join(created)}\n")
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    events = list(demo_events(end=end))
    if Event.objects.filter(
        customer_id="acme", transaction_id=events[0]["transaction_id"]
    ).exists():
        return  # loaded before (perhaps on another day, whose month would differ)
    accepted = 0
    for start in range(0, len(events), BATCH):
        accepted += usage_events_ingest(events=events[start : start + BATCH]).accepted
    stdout.write(f"Usage events stored: {accepted} over the {DAYS} days up to {end:%Y-%m-%d}\n")


def _metrics_ensure() -> list[str]:
    existing = set(BillableMetric.objects.values_list("code", flat=True))
    created = []
    for metric in METRICS:
        if metric["code"] not in existing:
            billable_metric_create(**metric)
            created.append(metric["code"])
    return created


def demo_events(*, end: datetime) -> Iterator[dict[str, Any]]:
    """The demo month, deterministic for a given `end`: customers in order, then day by day."""
    rng = random.Random(SEED)
    for customer, profile in PROFILES.items():
        yield from _customer_events(rng, customer, profile, start=end - timedelta(days=DAYS))


def _customer_events(
    rng: random.Random, customer: str, profile: Profile, *, start: datetime
) -> Iterator[dict[str, Any]]:
    numbers: dict[str, int] = {}

    def event(code: str, at: datetime, properties: dict[str, Any]) -> dict[str, Any]:
        number = numbers[code] = numbers.get(code, 0) + 1
        return {
            "transaction_id": f"demo-{customer}-{code}-{number:05d}",
            "customer_id": customer,
            "code": code,
            "timestamp": at,
            "properties": properties,
        }

    def user() -> str:
        return f"{customer}-user-{rng.randrange(profile.users) + 1}"

    def seats_on(day: int) -> int:
        return profile.seats[day * len(profile.seats) // DAYS]

    for day in range(DAYS):
        midnight = start + timedelta(days=day)
        weekday = midnight.weekday() < 5
        volume = (1 + (profile.growth - 1) * day / (DAYS - 1)) * (1.0 if weekday else 0.35)

        def moment(midnight: datetime = midnight) -> datetime:
            # Working hours mostly: 07:00-20:00 UTC, to the second.
            return midnight + timedelta(seconds=rng.randrange(7 * 3600, 20 * 3600))

        if day == 0 or seats_on(day) != seats_on(day - 1):
            yield event("seats", midnight + timedelta(hours=6), {"seats": seats_on(day)})
        for _ in range(_poisson(rng, profile.llm_calls * volume)):
            tokens = int(rng.lognormvariate(7.0, 0.8))
            model = rng.choice(MODELS)
            at, who = moment(), user()
            region = REGIONS[int(who.rsplit("-", 1)[1]) % 2]
            yield event(
                "llm_tokens",
                at,
                {"tokens": tokens, "model": model, "user_id": who, "region": region},
            )
        for _ in range(_poisson(rng, profile.chat_calls * volume)):
            yield event("chat_api_calls", moment(), {"service": "openwebui", "user_id": user()})
        for _ in range(_poisson(rng, profile.agent_runs * volume)):
            yield event("agent_invocations", moment(), {"agent": rng.choice(AGENTS)})
        for _ in range(_poisson(rng, profile.api_calls * volume)):
            endpoint = rng.choice(("/v1/search", "/v1/export"))
            yield event("api_calls", moment(), {"endpoint": endpoint})
        if weekday or rng.random() < 0.3:
            active = rng.sample(range(1, profile.users + 1), k=max(1, int(profile.users * 0.7)))
            for number in sorted(active):
                yield event("active_users", moment(), {"user_id": f"{customer}-user-{number}"})
        if profile.storage_gb:
            stored = Decimal(profile.storage_gb) * (1 + Decimal(day) / 100)
            gb_hours = (stored * 24).quantize(Decimal("0.01"))
            at = midnight + timedelta(hours=23, minutes=59)
            yield event("storage_gb_hours", at, {"gb_hours": str(gb_hours)})
    # Seat users take no draws from `rng`, so the other events stay as they were.
    yield from _seat_user_events(event, profile, start=start)


def _seat_user_events(event: Any, profile: Profile, *, start: datetime) -> Iterator[dict[str, Any]]:
    """The seats as users added (before the month for the first ones, then as the seat count
    grows) and removed (`seat_leavers`), for the recurring seat_users metric."""
    if not profile.seat_leavers:
        return
    counts = [profile.seats[day * len(profile.seats) // DAYS] for day in range(DAYS)]
    added = 0
    for day, wanted in enumerate(counts):
        at = start + (timedelta(days=-10) if day == 0 else timedelta(days=day, hours=8))
        while added < wanted:
            added += 1
            yield event("seat_users", at, {"user_id": f"user-{added}", "operation_type": "add"})
    for number, leaves, returns in profile.seat_leavers:
        at = start + timedelta(days=leaves, hours=17)
        yield event("seat_users", at, {"user_id": f"user-{number}", "operation_type": "remove"})
        if returns is not None:
            at = start + timedelta(days=returns, hours=9)
            yield event("seat_users", at, {"user_id": f"user-{number}", "operation_type": "add"})


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method for the small means used here)."""
    if mean <= 0:
        return 0
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
