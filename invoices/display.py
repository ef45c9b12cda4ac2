"""How invoices read to a person: money in the currency's form, lines' arithmetic in words.

No money is computed here; amounts come stored on the lines (or from the calculation)."""

from decimal import Decimal
from typing import Any

from billing_site.core.money import format_money


def money_text(amount: Decimal | None, currency: str) -> str:
    """``$1,234.50``, ``-€8.00``, ``¥1,200``: core's one money format, with a dash for none."""
    if amount is None:
        return "—"
    return format_money(Decimal(amount), currency)


def number_text(value: Any) -> str:
    text = format(Decimal(str(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    whole, _, fraction = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    return sign + f"{int(whole.lstrip('-') or 0):,}" + (f".{fraction}" if fraction else "")


def line_arithmetic(line: Any, currency: str) -> list[str]:
    """The steps that make a line's amount, one sentence each."""
    breakdown = line.breakdown or {}
    steps: list[str] = []
    if line.kind == "usage":
        for row in breakdown.get("breakdown", []):
            flat = Decimal(row["flat_amount"])
            text = f"{row['label']}: {number_text(row['units'])} × {number_text(row['unit_price'])}"
            if flat:
                text += f" + {money_text(flat, currency)} flat"
            steps.append(f"{text} = {number_text(row['amount'])}")
        if breakdown.get("credited_amount"):
            steps.append(f"less credits: {number_text(breakdown['credited_amount'])}")
    elif "formula" in breakdown:
        steps.append(f"{breakdown['formula']} = {number_text(line.amount_precise)}")
    elif line.kind == "adjustment":
        steps.append(
            f"usage now {number_text(breakdown.get('amount', 0))} − billed before "
            f"{number_text(breakdown.get('billed_before', 0))}"
        )
    if line.amount_precise != line.amount:
        steps.append(
            f"exact {number_text(line.amount_precise)}, rounded half-up to "
            f"{money_text(line.amount, currency)}"
        )
    return steps
