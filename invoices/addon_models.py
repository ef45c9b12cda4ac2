"""Add-ons (the catalog of one-off charges) and the e-mails sent about invoices.

- An add-on is a named price in one currency; a one-off invoice line copies its description and
  unit price when it is made, so later catalog edits never change an issued invoice.
- An invoice e-mail is recorded before it is sent: one automatic e-mail per (invoice, event),
  kept by a unique constraint, so a retried task or a second finalization path sends it once;
  a resend is a row of its own.
"""

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from billing_site.core.money import CURRENCY_VALIDATOR, MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS

# Caps that keep quantity × price × lines inside the money columns (16 integer digits).
ADD_ON_MAX_AMOUNT = 1_000_000_000
CODE_VALIDATOR = RegexValidator(
    r"^[a-z0-9][a-z0-9_-]*$", "Lower-case letters, digits, dashes and underscores."
)


class AddOn(models.Model):
    code = models.CharField(max_length=100, unique=True, validators=[CODE_VALIDATOR])
    name = models.CharField(max_length=200)
    amount = models.DecimalField(
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        validators=[MinValueValidator(0), MaxValueValidator(ADD_ON_MAX_AMOUNT)],
        help_text="Price of one unit, in the add-on's currency.",
    )
    currency = models.CharField(max_length=3, validators=[CURRENCY_VALIDATOR])
    description = models.TextField(blank=True, help_text="Shown on the invoice line by default.")
    taxes = models.ManyToManyField(
        "invoices.TaxRate",
        blank=True,
        related_name="add_ons",
        help_text="Rates for this add-on's lines; none: the customer's rates, else the default.",
    )
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "add-on"
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="invoices_addon_amount_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class InvoiceEmailEvent(models.TextChoices):
    FINALIZED = "finalized", "Invoice issued"
    PAID = "paid", "Payment received"


class InvoiceEmail(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Skipped (the customer has no e-mail address)"
        FAILED = "failed", "Failed"

    invoice = models.ForeignKey("invoices.Invoice", on_delete=models.CASCADE, related_name="emails")
    event = models.CharField(max_length=10, choices=InvoiceEmailEvent.choices)
    resend = models.BooleanField(default=False, help_text="Sent again by hand from the admin.")
    recipient = models.CharField(max_length=254, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    requested_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["invoice", "created_at", "id"]
        verbose_name = "invoice e-mail"
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "event"],
                condition=Q(resend=False),
                name="invoices_email_once_per_invoice_event",
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="invoices_email_sent_has_sent_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} to {self.recipient or '(no address)'}"
