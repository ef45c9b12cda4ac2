"""The catalog lists in words: a plan's price as a sentence, a version's base fee as money.

Mixins for ``PlanAdmin``, ``VersionInline`` and ``PlanVersionAdmin``: each list loads what its
sentences need in a fixed number of queries (prefetched versions and charges), never one per row.
"""

from django.contrib import admin
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest

from plans.models import Charge, Plan, PlanVersion
from plans.sentences import ChargeLine, money_text, plan_sentence

SHOWN_STATUSES = (PlanVersion.Status.PUBLISHED, PlanVersion.Status.DRAFT)


def version_sentence(version: PlanVersion) -> str:
    """ "$49.00 a month (USD), paid in arrears; API calls: 0–1,000 free, then $0.01 per unit"
    (the version's charges should be prefetched, in invoice order)."""
    charges = [
        ChargeLine(
            name=charge.invoice_display_name or charge.metric.name,
            charge_model=charge.charge_model,
            properties=charge.properties or {},
            filter_count=len(charge.filters or []),
        )
        for charge in version.charges.all()
    ]
    return plan_sentence(
        base_fee=version.base_fee,
        currency=version.currency,
        interval=version.interval,
        in_advance=version.base_fee_in_advance,
        charges=charges,
    )


def _shown_version(plan: Plan) -> PlanVersion | None:
    """The latest published version, else the draft."""
    versions = plan.shown_versions  # type: ignore[attr-defined]
    published = [v for v in versions if v.status == PlanVersion.Status.PUBLISHED]
    return (published or versions or [None])[0]


class PlanPriceColumn:
    """The plans list's "Price" column: the sentence of the latest published version (or of
    the draft when none is published yet)."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Plan]:
        charges = Charge.objects.select_related("metric").order_by("position", "id")
        versions = (
            PlanVersion.objects.filter(status__in=SHOWN_STATUSES)
            .order_by("-number")
            .prefetch_related(Prefetch("charges", queryset=charges))
        )
        return (
            super()  # type: ignore[misc]
            .get_queryset(request)
            .prefetch_related(Prefetch("versions", queryset=versions, to_attr="shown_versions"))
        )

    @admin.display(description="Price")
    def price(self, obj: Plan) -> str:
        version = _shown_version(obj)
        if version is None:
            return "—"
        draft = " (draft, not on sale yet)" if version.is_draft else ""
        return f"v{version.number}{draft}: {version_sentence(version)}"


class BaseFeeColumn:
    """A version's base fee in the currency's own form ($49.00, ¥500)."""

    @admin.display(description="Base fee", ordering="base_fee")
    def base_fee_money(self, obj: PlanVersion) -> str:
        return f"{money_text(obj.base_fee, obj.currency)} / {obj.interval}"
