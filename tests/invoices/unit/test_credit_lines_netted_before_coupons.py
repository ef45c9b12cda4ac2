"""A negative line (credits applied) is netted into the positive lines of its own metric before
coupons see the lines, so a coupon never discounts what credits already covered."""

from datetime import UTC, datetime
from decimal import Decimal

from invoices.calculations import LineDraft
from invoices.selectors.adjustments import netted_amounts

START, END = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)


def _line(kind: str, amount: str, metric: str = "") -> LineDraft:
    value = Decimal(amount)
    return LineDraft(
        kind=kind,
        description=f"{kind} {metric}",
        quantity=Decimal(1),
        unit_amount=value,
        amount_precise=value,
        amount=value,
        line_start=START,
        line_end=END,
        metric_code=metric,
    )


def test_credits_lower_their_metrics_lines_and_nothing_else():
    # given a fee, two usage lines and credits worth $30 of tokens
    lines = [
        _line("base_fee", "49.00"),
        _line("usage", "25.00", "tokens"),
        _line("usage", "10.00", "calls"),
        _line("credit", "-30.00", "tokens"),
    ]

    # when
    amounts = netted_amounts(lines)

    # then tokens drop to zero, $5 of the credit stays on its own line, the rest is untouched
    assert amounts == [Decimal("49.00"), Decimal("0.00"), Decimal("10.00"), Decimal("-5.00")]
    assert sum(amounts) == sum(line.amount for line in lines)
