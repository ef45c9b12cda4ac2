"""Keep ``CustomerAlias`` in step with the catalog's customers.

Metering knows customers only by id strings, so the catalog (which may import metering, not the
other way round) calls these services on every write that changes a customer's ids. Customer
ids and member ids share one namespace: an id maps to exactly one customer.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from billing_site.core.exceptions import ConflictError
from metering.models import CustomerAlias, UnknownCustomer


@dataclass(frozen=True)
class AliasSyncResult:
    added: tuple[str, ...]
    removed: tuple[str, ...]


def customer_alias_conflicts(*, customer_id: str, alias_ids: Iterable[str]) -> dict[str, str]:
    """``{alias_id: other customer's id}`` for the ids already taken by another customer."""
    return dict(
        CustomerAlias.objects.filter(alias_id__in=set(alias_ids))
        .exclude(customer_id=customer_id)
        .values_list("alias_id", "customer_id")
    )


@transaction.atomic
def customer_alias_sync(*, customer_id: str, member_ids: Sequence[str]) -> AliasSyncResult:
    """Make the aliases of ``customer_id`` exactly its own id plus ``member_ids``.

    Raises ``ConflictError`` (code ``alias_taken``) when an id belongs to another customer;
    nothing is written then.
    """
    wanted_members = set(member_ids)
    if customer_id in wanted_members:
        raise ConflictError(
            f"{customer_id!r} is the customer's own id and cannot also be one of its members.",
            code="alias_taken",
            fields={"member_ids": [f"{customer_id!r} is the customer's own id."]},
        )
    taken = customer_alias_conflicts(
        customer_id=customer_id, alias_ids=wanted_members | {customer_id}
    )
    if taken:
        field = "external_id" if customer_id in taken else "member_ids"
        messages = [
            f"{alias!r} already belongs to customer {owner!r}."
            for alias, owner in sorted(taken.items())
        ]
        raise ConflictError(messages[0], code="alias_taken", fields={field: messages})

    current = dict(
        CustomerAlias.objects.select_for_update()
        .filter(customer_id=customer_id)
        .values_list("alias_id", "kind")
    )
    wanted = {customer_id: CustomerAlias.Kind.CUSTOMER} | {
        member: CustomerAlias.Kind.MEMBER for member in wanted_members
    }
    stale = [alias for alias, kind in current.items() if wanted.get(alias) != kind]
    if stale:
        CustomerAlias.objects.filter(customer_id=customer_id, alias_id__in=stale).delete()
    missing = [alias for alias, kind in wanted.items() if current.get(alias) != kind]
    try:
        with transaction.atomic():
            CustomerAlias.objects.bulk_create(
                [
                    CustomerAlias(alias_id=alias, customer_id=customer_id, kind=wanted[alias])
                    for alias in sorted(missing)
                ]
            )
    except IntegrityError:
        # Another transaction took one of the ids between our check and the insert.
        raise ConflictError(
            "One of these ids was just taken by another customer; retry.",
            code="alias_taken",
            fields={"member_ids": ["One of these ids was just taken by another customer."]},
        ) from None
    # Ids that now map to a customer are no longer unknown.
    UnknownCustomer.objects.filter(customer_id__in=missing).delete()
    return AliasSyncResult(
        added=tuple(sorted(a for a in missing if wanted[a] == CustomerAlias.Kind.MEMBER)),
        removed=tuple(sorted(a for a in stale if a not in wanted)),
    )


@transaction.atomic
def customer_alias_remove(*, customer_id: str) -> int:
    """Drop every alias of ``customer_id`` (its own id and its members'); returns how many."""
    deleted, _ = CustomerAlias.objects.filter(customer_id=customer_id).delete()
    return deleted


def customer_id_resolve(*, alias_id: str) -> str | None:
    """The customer's external id that ``alias_id`` maps to, or None."""
    return (
        CustomerAlias.objects.filter(alias_id=alias_id)
        .values_list("customer_id", flat=True)
        .first()
    )
