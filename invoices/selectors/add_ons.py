"""Reads of the add-on catalog."""

from collections.abc import Iterable

from django.db.models import QuerySet

from invoices.models import AddOn


def add_ons_active() -> QuerySet[AddOn]:
    return AddOn.objects.filter(archived_at__isnull=True).order_by("code")


def add_ons_by_code(codes: Iterable[str]) -> dict[str, AddOn]:
    """The active add-ons with these codes, by code (missing codes are simply absent)."""
    return {add_on.code: add_on for add_on in add_ons_active().filter(code__in=set(codes))}
