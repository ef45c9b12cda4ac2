"""One-off invoices: add-ons billed to a customer outside any subscription.

A one-off invoice is made in one transaction with its lines and then lives like any other
invoice (draft -> finalized with the next gapless number -> paid | void, pushed to Stripe).
The request's idempotency key is unique on the invoice: a retried request with the same key and
the same content returns the invoice the first made; the same key with other content is
refused, so a key never silently means two things. Two concurrent requests with one key meet on
the unique constraint and the loser returns the winner's invoice.
"""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing_site.core.exceptions import ApplicationError, ConflictError
from invoices.add_on_lines import add_on_line
from invoices.calculations import LineDraft, invoice_total
from invoices.models import AddOn, Invoice, InvoiceKind, InvoiceLine
from invoices.selectors.adjustments import add_on_rate_specs, add_on_tax_lines
from invoices.services.lifecycle import invoice_finalize
from invoices.transitions import invoice_drafted_write
from plans.models import Customer

MAX_ITEMS = 50
# A one-off draft waits this long for a second look before the finalize task issues it.
ONE_OFF_GRACE = timedelta(days=1)


@dataclass(frozen=True)
class OneOffItem:
    add_on: AddOn
    quantity: Decimal
    unit_price: Decimal | None = None
    description: str = ""

    @property
    def price(self) -> Decimal:
        return self.add_on.amount if self.unit_price is None else self.unit_price

    @property
    def text(self) -> str:
        return self.description or self.add_on.description or self.add_on.name


def one_off_request_digest(
    *, customer: Customer, items: Sequence[OneOffItem], finalize: bool
) -> str:
    """sha256 of what the request asks for (values normalized, so 2 and 2.00 are the same)."""
    body = {
        "customer": customer.external_id,
        "finalize": finalize,
        "items": [
            [
                item.add_on.code,
                format(item.quantity.normalize(), "f"),
                None if item.unit_price is None else format(item.unit_price.normalize(), "f"),
                item.description,
            ]
            for item in items
        ],
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _replay(invoice: Invoice, digest: str) -> tuple[Invoice, bool]:
    if invoice.idempotency_digest != digest:
        raise ConflictError(
            "This idempotency key was used for another request.",
            code="idempotency_key_reused",
            fields={"idempotency_key": ["Already used with different content."]},
        )
    return invoice, False


def _currency(customer: Customer, items: Sequence[OneOffItem]) -> str:
    currencies = {item.add_on.currency for item in items}
    if len(currencies) > 1:
        raise ApplicationError(
            "All add-ons of one invoice must be in one currency.",
            code="currency_mismatch",
            fields={"items": [f"Add-ons in {', '.join(sorted(currencies))}; pick one currency."]},
        )
    (currency,) = currencies
    if customer.currency and customer.currency != currency:
        raise ApplicationError(
            f"The customer is invoiced in {customer.currency}, the add-ons are in {currency}.",
            code="currency_mismatch",
            fields={"items": [f"The customer is invoiced in {customer.currency}."]},
        )
    return currency


def _validate(customer: Customer, items: Sequence[OneOffItem]) -> None:
    if customer.is_archived:
        raise ConflictError(
            f"Customer {customer.external_id!r} is archived.",
            code="customer_archived",
            fields={"customer": ["The customer is archived."]},
        )
    if not items:
        raise ApplicationError("Give at least one item.", fields={"items": ["Empty."]})
    if len(items) > MAX_ITEMS:
        raise ApplicationError(
            f"At most {MAX_ITEMS} items.", fields={"items": [f"At most {MAX_ITEMS}."]}
        )
    for index, item in enumerate(items):
        if item.quantity <= 0:
            raise ApplicationError(
                "Quantities are positive.", fields={f"items[{index}].quantity": ["Must be > 0."]}
            )
        if item.unit_price is not None and item.unit_price < 0:
            raise ApplicationError(
                "Prices are not negative.",
                fields={f"items[{index}].unit_price": ["Must be 0 or more."]},
            )
        if item.add_on.archived_at is not None:
            raise ApplicationError(
                f"Add-on {item.add_on.code!r} is archived.",
                code="add_on_archived",
                fields={f"items[{index}].add_on": ["The add-on is archived."]},
            )


def one_off_lines(
    *, customer: Customer, items: Sequence[OneOffItem], currency: str, day: datetime
) -> list[tuple[LineDraft, AddOn | None]]:
    """The invoice's lines for ``items`` (issued on ``day``): one per item, then one tax line per
    rate, each with the add-on it came from (None for tax)."""
    day_end = day + timedelta(days=1)
    drafts = [
        add_on_line(
            kind=InvoiceLine.Kind.ADD_ON,
            description=item.text[:300],
            quantity=item.quantity,
            unit_price=item.price,
            catalog_price=item.add_on.amount,
            add_on_code=item.add_on.code,
            currency=currency,
            line_start=day,
            line_end=day_end,
        )
        for item in items
    ]
    own_rates = add_on_rate_specs([item.add_on.pk for item in items])
    taxes = add_on_tax_lines(
        customer=customer,
        currency=currency,
        lines=drafts,
        add_on_rates=[own_rates.get(item.add_on.pk, []) for item in items],
    )
    return [
        *((line, item.add_on) for line, item in zip(drafts, items, strict=True)),
        *((line, None) for line in taxes),
    ]


@transaction.atomic
def one_off_invoice_create(
    *,
    customer: Customer,
    items: Sequence[OneOffItem],
    idempotency_key: str,
    finalize: bool = False,
    actor: Any = None,
    now: datetime | None = None,
) -> tuple[Invoice, bool]:
    """A draft invoice of add-on lines for the customer (finalized at once with ``finalize``);
    ``created`` is False when the key was already used for this same request."""
    now = now or timezone.now()
    digest = one_off_request_digest(customer=customer, items=items, finalize=finalize)
    existing = Invoice.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return _replay(existing, digest)
    _validate(customer, items)
    currency = _currency(customer, items)
    # The line's time is the day it is issued: invoices and lines carry a half-open period.
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    day_end = day + timedelta(days=1)
    lines = one_off_lines(customer=customer, items=items, currency=currency, day=day)
    drafts = [line for line, _ in lines]
    try:
        with transaction.atomic():
            invoice = Invoice.objects.create(
                customer=customer,
                kind=InvoiceKind.ONE_OFF,
                currency=currency,
                period_start=day,
                period_end=day_end,
                nominal_period_end=day_end,
                issued_at=now,
                computed_at=now,
                finalize_after=now + ONE_OFF_GRACE,
                total=invoice_total(drafts),
                idempotency_key=idempotency_key,
                idempotency_digest=digest,
            )
            InvoiceLine.objects.bulk_create(
                InvoiceLine(
                    invoice=invoice,
                    position=position,
                    kind=line.kind,
                    description=line.description,
                    quantity=line.quantity,
                    unit_amount=line.unit_amount,
                    amount_precise=line.amount_precise,
                    amount=line.amount,
                    breakdown=dict(line.breakdown),
                    line_start=line.line_start,
                    line_end=line.line_end,
                    add_on=add_on,
                )
                for position, (line, add_on) in enumerate(lines, start=1)
            )
    except IntegrityError:
        winner = Invoice.objects.filter(idempotency_key=idempotency_key).first()
        if winner is None:
            raise
        return _replay(winner, digest)
    invoice_drafted_write(
        invoice=invoice,
        actor=actor,
        lines=len(drafts),
        details={"one_off": True},
        changes={
            "customer": customer.external_id,
            "kind": InvoiceKind.ONE_OFF,
            "items": [[item.add_on.code, item.quantity, item.price] for item in items],
        },
    )
    if finalize:
        invoice = invoice_finalize(invoice=invoice, actor=actor, now=now, recompute=False)
    return invoice, True
