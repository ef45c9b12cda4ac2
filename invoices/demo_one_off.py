"""Demo add-ons and one one-off invoice: Acme bought an onboarding package and four hours of
support, billed outside its subscription; the invoice is finalized (and e-mailed, on the
console backend, when a worker runs). Loaded once: a second run changes nothing."""

from decimal import Decimal
from typing import TextIO

from invoices.models import AddOn, Invoice
from invoices.services.add_ons import add_on_save
from invoices.services.one_off import OneOffItem, one_off_invoice_create
from plans.models import Customer

# code -> (name, price in USD, description)
ADD_ONS: dict[str, tuple[str, str, str]] = {
    "onboarding": ("Onboarding package", "499.00", "Workspace setup and a kickoff session"),
    "support-hour": ("Support hour", "150.00", "An hour of engineering support"),
    "data-export": ("Data export", "75.00", "A full export of your usage history"),
}
DEMO_KEY = "demo-acme-onboarding"


def load(stdout: TextIO) -> None:
    for code, (name, amount, description) in ADD_ONS.items():
        if not AddOn.objects.filter(code=code).exists():
            add_on_save(
                add_on=AddOn(
                    code=code,
                    name=name,
                    amount=Decimal(amount),
                    currency="USD",
                    description=description,
                )
            )
    if Invoice.objects.filter(idempotency_key=DEMO_KEY).exists():
        return
    customer = Customer.objects.filter(external_id="acme").first()
    if customer is None:  # the catalog's demo did not run
        return
    add_ons = {add_on.code: add_on for add_on in AddOn.objects.all()}
    invoice, _ = one_off_invoice_create(
        customer=customer,
        items=[
            OneOffItem(add_on=add_ons["onboarding"], quantity=Decimal(1)),
            OneOffItem(
                add_on=add_ons["support-hour"],
                quantity=Decimal(4),
                description="Support hours: data migration",
            ),
        ],
        idempotency_key=DEMO_KEY,
        finalize=True,
    )
    stdout.write(
        f"Add-ons: {', '.join(ADD_ONS)}; one-off invoice {invoice} for Acme "
        f"(USD {invoice.total}).\n"
    )
