"""The entitlement decision, pure: no ORM, settings or clock.

Given a feature's effective value and the numbers of its current window, ``decide`` answers
"may N more be used now?" and how those N would be paid.

Invariants:
- ``used`` is every unit of the window; ``credited`` the part of it already paid with credits as
  it was used. The plan's ``limit`` covers the rest first; what exceeds it and was not credited
  (events ingested directly) is ``uncovered`` and takes credits before anything new can.
- Holds take from the included units first, then from credits.
- ``from_included + from_credits + overage == quantity``; a hard cap allows only when
  ``overage == 0``, a soft cap always allows (the overage is billed). Unlimited allows all.
- ``remaining`` is what could still be used now (included + credits - held, never negative),
  ``None`` when unlimited.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

ZERO = Decimal("0")
LIFETIME_END = datetime(9999, 1, 1, tzinfo=UTC)

REASONS = (
    "ok",
    "overage",
    "no_subscription",
    "not_in_plan",
    "feature_disabled",
    "limit_reached",
    "insufficient_credits",
)


@dataclass(frozen=True)
class Allowance:
    kind: str  # boolean | static | metered
    enabled: bool
    limit: Decimal | None = None  # None: unlimited
    cap: str = "hard"
    used: Decimal = ZERO
    credited: Decimal = ZERO
    credits: Decimal = ZERO  # the credit balance now
    held: Decimal = ZERO


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str
    remaining: Decimal | None
    credits_available: Decimal
    from_included: Decimal = ZERO
    from_credits: Decimal = ZERO
    overage: Decimal = ZERO


def decide(allowance: Allowance, quantity: Decimal) -> Verdict:
    a = allowance
    if not a.enabled:
        return Verdict(False, "feature_disabled", ZERO, ZERO)
    if a.kind != "metered":
        return Verdict(True, "ok", None, ZERO)
    if a.limit is None:
        return Verdict(True, "ok", None, a.credits, from_included=quantity)
    not_credited = a.used - a.credited
    included_left = max(ZERO, a.limit - not_credited)
    uncovered = max(ZERO, not_credited - a.limit)
    credits_available = max(ZERO, a.credits - uncovered)
    held_included = min(a.held, included_left)
    free_included = included_left - held_included
    free_credits = max(ZERO, credits_available - (a.held - held_included))
    from_included = min(quantity, free_included)
    from_credits = min(quantity - from_included, free_credits)
    overage = quantity - from_included - from_credits
    remaining = free_included + free_credits
    if overage == 0:
        return Verdict(True, "ok", remaining, credits_available, from_included, from_credits)
    if a.cap == "soft":
        return Verdict(
            True, "overage", remaining, credits_available, from_included, from_credits, overage
        )
    reason = "insufficient_credits" if a.limit == 0 or free_credits > 0 else "limit_reached"
    return Verdict(False, reason, remaining, credits_available)


def limit_window(
    *,
    reset_period: str,
    at: datetime,
    period_start: datetime,
    period_end: datetime,
    started_at: datetime,
) -> tuple[datetime, datetime]:
    """The window ``[start, end)`` a metered limit counts in at ``at``: the billing period; a
    UTC day, ISO week (from Monday) or calendar month cut to the billing period; or, for
    ``never``, everything since the subscription started (a lifetime allowance)."""
    if reset_period == "never":
        return started_at, LIFETIME_END
    if reset_period == "billing":
        return period_start, period_end
    day = at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if reset_period == "day":
        start, end = day, day + timedelta(days=1)
    elif reset_period == "week":
        start = day - timedelta(days=day.weekday())
        end = start + timedelta(weeks=1)
    elif reset_period == "month":
        start = day.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
    else:
        raise ValueError(f"Unknown reset period {reset_period!r}.")
    return max(start, period_start), min(end, period_end)
