"""Row locks taken before credits move.

Grants are locked in primary-key order, so two transactions burning the same customer's credits
take the locks in one order and cannot deadlock; ``of=("self",)`` keeps the lock off the joined
customer and feature rows that other writers (the catalog) update.
"""

from django.db.models import QuerySet

from credits.models import CreditGrant


def credit_grants_lock(*, customer_id: int, feature_id: int) -> QuerySet[CreditGrant]:
    return (
        CreditGrant.objects.filter(customer_id=customer_id, feature_id=feature_id)
        .order_by("pk")
        .select_for_update(of=("self",))
    )


def customer_credit_grants_lock(*, customer_id: int) -> QuerySet[CreditGrant]:
    """Every grant of the customer, whatever the feature (finalizing an invoice reads and then
    burns several features' credits)."""
    return (
        CreditGrant.objects.filter(customer_id=customer_id)
        .order_by("pk")
        .select_for_update(of=("self",))
    )
