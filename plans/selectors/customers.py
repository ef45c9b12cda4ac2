"""Reads of customers."""

from django.db.models import Q, QuerySet

from billing_site.core.exceptions import NotFoundError
from plans.models import Customer


def customer_get(*, external_id: str) -> Customer:
    customer = Customer.objects.filter(external_id=external_id).first()
    if customer is None:
        raise NotFoundError(
            f"No customer with external id {external_id!r}.",
            fields={"external_id": ["No such customer."]},
        )
    return customer


def customers_list(*, search: str = "", archived: bool | None = None) -> QuerySet[Customer]:
    """Customers matching ``search`` (external id, name or email, case-insensitive), optionally
    only archived (True) or only active (False) ones, by external id, with members prefetched."""
    customers = Customer.objects.all()
    if search:
        customers = customers.filter(
            Q(external_id__icontains=search)
            | Q(name__icontains=search)
            | Q(email__icontains=search)
        )
    if archived is not None:
        customers = customers.filter(archived_at__isnull=not archived)
    return customers.order_by("external_id", "id").prefetch_related("members")
