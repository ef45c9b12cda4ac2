"""Customers and their members. Every write keeps metering's CustomerAlias table in step."""

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing_site.core.audit import audit_log_write, jsonable
from billing_site.core.exceptions import ConflictError
from metering.aliases import customer_alias_sync
from plans.models import Customer, CustomerMember, Subscription
from plans.services._common import model_update

CUSTOMER_UPDATABLE_FIELDS = ("name", "email", "currency", "metadata")


def _clean_member_ids(member_ids: Sequence[str]) -> list[str]:
    cleaned, errors = [], []
    for index, raw in enumerate(member_ids):
        member = raw.strip() if isinstance(raw, str) else raw
        if not isinstance(member, str) or not member:
            errors.append(f"Member {index + 1} must be a non-empty string.")
        elif len(member) > 255:
            errors.append(f"Member {index + 1} is longer than 255 characters.")
        elif member in cleaned:
            errors.append(f"Member {member!r} is listed twice.")
        else:
            cleaned.append(member)
    if errors:
        raise ValidationError({"member_ids": errors})
    return cleaned


def _members_write(*, customer: Customer, member_ids: list[str]) -> dict[str, list[str]]:
    current = set(customer.members.values_list("member_id", flat=True))
    wanted = set(member_ids)
    taken = dict(
        CustomerMember.objects.filter(member_id__in=wanted - current).values_list(
            "member_id", "customer__external_id"
        )
    )
    if taken:
        messages = [
            f"{m!r} is already a member of customer {c!r}." for m, c in sorted(taken.items())
        ]
        raise ConflictError(messages[0], code="alias_taken", fields={"member_ids": messages})
    # The alias sync also refuses ids that are another customer's own external id.
    customer_alias_sync(customer_id=customer.external_id, member_ids=sorted(wanted))
    customer.members.filter(member_id__in=current - wanted).delete()
    CustomerMember.objects.bulk_create(
        [CustomerMember(customer=customer, member_id=m) for m in sorted(wanted - current)]
    )
    return {"added": sorted(wanted - current), "removed": sorted(current - wanted)}


@transaction.atomic
def customer_create(
    *,
    external_id: str,
    name: str = "",
    email: str = "",
    currency: str = "",
    metadata: Mapping[str, Any] | None = None,
    member_ids: Sequence[str] = (),
    actor: Any = None,
) -> tuple[Customer, bool]:
    """Create a customer; idempotent on ``external_id``.

    When the external id exists, the existing customer is returned unchanged with
    ``created=False`` (a retry of the same request, or a second system that knows the customer).
    """
    existing = Customer.objects.filter(external_id=external_id).first()
    if existing is not None:
        return existing, False
    customer = Customer(
        external_id=external_id,
        name=name,
        email=email,
        currency=currency,
        metadata=dict(metadata or {}),
    )
    customer.full_clean()
    members = _clean_member_ids(member_ids)
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError:
        # A concurrent request created it between our read and our insert.
        return Customer.objects.get(external_id=external_id), False
    _members_write(customer=customer, member_ids=members)
    audit_log_write(
        actor=actor,
        action="customer.created",
        obj=customer,
        changes={
            "external_id": external_id,
            "name": name,
            "email": email,
            "currency": currency,
            "member_ids": members,
        },
    )
    return customer, True


@transaction.atomic
def customer_update(*, customer: Customer, data: Mapping[str, Any], actor: Any = None) -> Customer:
    """Update name, email, currency or metadata. The external id never changes: events use it.

    The currency cannot change while the customer has live subscriptions in another currency.
    """
    unknown = sorted(set(data) - set(CUSTOMER_UPDATABLE_FIELDS))
    if unknown:
        raise ValidationError({field: ["This field cannot be updated."] for field in unknown})
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    new_currency = data.get("currency", customer.currency)
    if new_currency != customer.currency:
        other = (
            Subscription.objects.filter(customer=customer, status__in=["trialing", "active"])
            .exclude(version__currency=new_currency)
            .first()
        )
        if other is not None:
            raise ConflictError(
                f"Subscription {other.external_id!r} bills in {other.version.currency}; the "
                "customer's currency cannot change while it is live.",
                code="currency_in_use",
                fields={
                    "currency": [f"Subscription {other.external_id!r} is live in another currency."]
                },
            )
    customer, changes = model_update(instance=customer, fields=CUSTOMER_UPDATABLE_FIELDS, data=data)
    if changes:
        audit_log_write(actor=actor, action="customer.updated", obj=customer, changes=changes)
    return customer


@transaction.atomic
def customer_members_set(
    *, customer: Customer, member_ids: Sequence[str], actor: Any = None
) -> Customer:
    """Replace the customer's members with ``member_ids`` (their events bill to the customer)."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    members = _clean_member_ids(member_ids)
    diff = _members_write(customer=customer, member_ids=members)
    if diff["added"] or diff["removed"]:
        audit_log_write(actor=actor, action="customer.members_set", obj=customer, changes=diff)
    return customer


@transaction.atomic
def customer_archive(*, customer: Customer, actor: Any = None, reason: str = "") -> Customer:
    """Archive a customer with no live subscription; archiving twice keeps the first time.

    Its ids keep mapping events to it, so late usage still lands on the right customer.
    """
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.archived_at is not None:
        return customer
    live = list(
        customer.subscriptions.filter(status__in=["trialing", "active"]).values_list(
            "external_id", flat=True
        )
    )
    if live:
        raise ConflictError(
            f"Cancel the customer's live subscriptions first: {', '.join(live)}.",
            code="customer_has_subscriptions",
        )
    customer.archived_at = timezone.now()
    customer.full_clean()
    customer.save(update_fields=["archived_at", "updated_at"])
    audit_log_write(
        actor=actor,
        action="customer.archived",
        obj=customer,
        changes={"archived_at": jsonable(customer.archived_at)},
        reason=reason,
    )
    return customer


@transaction.atomic
def customer_unarchive(*, customer: Customer, actor: Any = None, reason: str = "") -> Customer:
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.archived_at is None:
        return customer
    old = customer.archived_at
    customer.archived_at = None
    customer.save(update_fields=["archived_at", "updated_at"])
    audit_log_write(
        actor=actor,
        action="customer.unarchived",
        obj=customer,
        changes={"archived_at": {"old": jsonable(old), "new": None}},
        reason=reason,
    )
    return customer
