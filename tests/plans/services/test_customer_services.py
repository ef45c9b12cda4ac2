import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from billing_site.core.exceptions import ConflictError
from billing_site.core.models import AuditLogEntry
from metering.models import CustomerAlias, UnknownCustomer
from plans.models import Customer, CustomerMember
from plans.services import (
    customer_archive,
    customer_create,
    customer_members_set,
    customer_update,
)
from tests.plans.factories import make_customer, make_subscription

pytestmark = pytest.mark.django_db


def aliases() -> set[tuple[str, str, str]]:
    return set(CustomerAlias.objects.values_list("alias_id", "customer_id", "kind"))


def test_create_makes_the_customer_and_its_own_alias():
    # when
    customer, created = customer_create(
        external_id="acme", name="Acme", email="billing@acme.test", currency="USD"
    )

    # then
    assert created is True
    assert Customer.objects.get(external_id="acme").email == "billing@acme.test"
    assert aliases() == {("acme", "acme", "customer")}
    assert (
        AuditLogEntry.objects.filter(action="customer.created", object_id=str(customer.pk)).count()
        == 1
    )


def test_create_with_an_existing_external_id_returns_it_unchanged():
    # given
    first, _ = customer_create(external_id="acme", name="Acme")

    # when the same id arrives again with a different name
    again, created = customer_create(external_id="acme", name="Other name", email="x@y.test")

    # then the existing customer comes back unchanged and nothing new is written
    assert created is False
    assert again.pk == first.pk
    assert Customer.objects.get(pk=first.pk).name == "Acme"
    assert Customer.objects.count() == 1
    assert AuditLogEntry.objects.filter(action="customer.created").count() == 1


def test_create_with_members_maps_each_member_to_the_customer():
    # when
    customer_create(external_id="acme", member_ids=["seat-1", "seat-2"])

    # then
    assert aliases() == {
        ("acme", "acme", "customer"),
        ("seat-1", "acme", "member"),
        ("seat-2", "acme", "member"),
    }
    assert set(CustomerMember.objects.values_list("member_id", flat=True)) == {"seat-1", "seat-2"}


def test_members_set_replaces_members_and_their_aliases():
    # given
    customer = make_customer("acme", member_ids=["seat-1", "seat-2"])

    # when
    customer_members_set(customer=customer, member_ids=["seat-2", "seat-3"])

    # then
    assert aliases() == {
        ("acme", "acme", "customer"),
        ("seat-2", "acme", "member"),
        ("seat-3", "acme", "member"),
    }
    assert set(customer.members.values_list("member_id", flat=True)) == {"seat-2", "seat-3"}


def test_a_member_id_that_is_another_customers_id_is_refused_and_nothing_changes():
    # given
    make_customer("globex")
    acme = make_customer("acme", member_ids=["seat-1"])

    # when
    with pytest.raises(ConflictError) as raised:
        customer_members_set(customer=acme, member_ids=["seat-1", "globex"])

    # then
    assert raised.value.code == "alias_taken"
    assert "member_ids" in raised.value.fields
    assert set(acme.members.values_list("member_id", flat=True)) == {"seat-1"}
    assert ("globex", "acme", "member") not in aliases()


def test_a_member_of_one_customer_cannot_join_another():
    # given
    make_customer("acme", member_ids=["seat-1"])
    globex = make_customer("globex")

    # when / then
    with pytest.raises(ConflictError, match="seat-1"):
        customer_members_set(customer=globex, member_ids=["seat-1"])
    assert CustomerAlias.objects.get(alias_id="seat-1").customer_id == "acme"


def test_a_customer_cannot_take_an_id_used_by_another_customers_member():
    # given
    make_customer("acme", member_ids=["bob"])

    # when / then
    with pytest.raises(ConflictError) as raised:
        customer_create(external_id="bob")
    assert raised.value.fields.keys() == {"external_id"}
    assert not Customer.objects.filter(external_id="bob").exists()


def test_creating_a_customer_clears_it_from_the_unknown_customers():
    # given events arrived for an id nobody had
    now = timezone.now()
    UnknownCustomer.objects.create(
        customer_id="acme", first_seen_at=now, last_seen_at=now, event_count=3
    )

    # when
    make_customer("acme")

    # then
    assert not UnknownCustomer.objects.filter(customer_id="acme").exists()


def test_duplicate_member_ids_are_refused_with_the_field():
    with pytest.raises(ValidationError) as raised:
        customer_create(external_id="acme", member_ids=["a", "a"])
    assert "member_ids" in raised.value.message_dict
    assert not Customer.objects.exists()


def test_update_changes_fields_and_records_old_and_new():
    # given
    customer = make_customer("acme", name="Acme")

    # when
    customer_update(customer=customer, data={"name": "Acme Inc", "metadata": {"tier": "gold"}})

    # then
    customer.refresh_from_db()
    assert customer.name == "Acme Inc"
    assert customer.metadata == {"tier": "gold"}
    entry = AuditLogEntry.objects.get(action="customer.updated")
    assert entry.changes["name"] == {"old": "Acme", "new": "Acme Inc"}


def test_update_refuses_the_external_id():
    customer = make_customer("acme")
    with pytest.raises(ValidationError) as raised:
        customer_update(customer=customer, data={"external_id": "other"})
    assert "external_id" in raised.value.message_dict


def test_update_refuses_a_currency_other_than_a_live_subscriptions():
    # given a customer billed in USD through a live subscription
    subscription = make_subscription()

    # when / then
    with pytest.raises(ConflictError) as raised:
        customer_update(customer=subscription.customer, data={"currency": "EUR"})
    assert raised.value.code == "currency_in_use"
    assert Customer.objects.get(pk=subscription.customer_id).currency == "USD"


def test_archive_refuses_a_customer_with_live_subscriptions():
    subscription = make_subscription()
    with pytest.raises(ConflictError) as raised:
        customer_archive(customer=subscription.customer)
    assert raised.value.code == "customer_has_subscriptions"
    assert Customer.objects.get(pk=subscription.customer_id).archived_at is None


def test_archive_keeps_the_first_time_and_the_aliases():
    # given
    customer = make_customer("acme", member_ids=["seat-1"])

    # when archived twice
    first = customer_archive(customer=customer).archived_at
    second = customer_archive(customer=customer).archived_at

    # then
    assert first is not None
    assert second == first
    assert ("seat-1", "acme", "member") in aliases()
