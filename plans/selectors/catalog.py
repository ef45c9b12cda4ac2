"""Reads of plans, versions and features."""

from django.db.models import Prefetch, QuerySet

from billing_site.core.exceptions import ConflictError, NotFoundError
from metering.models import BillableMetric
from plans.models import Charge, Feature, Plan, PlanFeature, PlanVersion


def plan_get(*, code: str) -> Plan:
    plan = Plan.objects.filter(code=code).first()
    if plan is None:
        raise NotFoundError(f"No plan with code {code!r}.", fields={"plan": ["No such plan."]})
    return plan


def metric_get(*, code: str) -> BillableMetric:
    metric = BillableMetric.objects.filter(code=code).first()
    if metric is None:
        raise NotFoundError(
            f"No billable metric with code {code!r}.", fields={"metric": ["No such metric."]}
        )
    return metric


def plan_version_with_details(versions: QuerySet[PlanVersion]) -> QuerySet[PlanVersion]:
    """Versions with their plan, charges (and metrics) and features loaded in three queries."""
    return versions.select_related("plan").prefetch_related(
        Prefetch(
            "charges", queryset=Charge.objects.select_related("metric").order_by("position", "id")
        ),
        Prefetch(
            "features",
            queryset=PlanFeature.objects.select_related("feature__metric").order_by(
                "feature__slug"
            ),
        ),
    )


def plan_version_get(*, plan: Plan, number: int) -> PlanVersion:
    version = plan_version_with_details(plan.versions.filter(number=number)).first()
    if version is None:
        raise NotFoundError(
            f"Plan {plan.code!r} has no version {number}.",
            fields={"version": [f"No version {number}."]},
        )
    return version


def plan_latest_published_version(code: str) -> PlanVersion:
    """The published version with the highest number of the plan ``code``, with details."""
    plan = plan_get(code=code)
    version = plan_version_with_details(
        plan.versions.filter(status=PlanVersion.Status.PUBLISHED).order_by("-number")
    ).first()
    if version is None:
        raise NotFoundError(
            f"Plan {code!r} has no published version.",
            fields={"plan": ["The plan has no published version."]},
        )
    return version


def plan_version_for_sale(*, plan: Plan, number: int | None = None) -> PlanVersion:
    """The version a new subscription (or plan change) may use: the named one, which must be
    published, or else the latest published one."""
    if number is None:
        return plan_latest_published_version(plan.code)
    version = plan_version_get(plan=plan, number=number)
    if version.status != PlanVersion.Status.PUBLISHED:
        raise ConflictError(
            f"Version {number} of plan {plan.code!r} is {version.status}; only a published "
            "version can be subscribed to.",
            code="version_not_published",
            fields={"version": [f"Version {number} is {version.status}."]},
        )
    return version


def plan_version_for_quote(*, plan: Plan, number: int | None = None) -> PlanVersion:
    """A version prices can be quoted from: the latest published, or any named non-draft one."""
    if number is None:
        return plan_latest_published_version(plan.code)
    version = plan_version_get(plan=plan, number=number)
    if version.status == PlanVersion.Status.DRAFT:
        raise NotFoundError(
            f"Plan {plan.code!r} has no published version {number}.",
            fields={"version": [f"Version {number} is a draft."]},
        )
    return version


def plans_published_list() -> list[PlanVersion]:
    """For pricing tables: each plan that has a published version, as its latest published
    version (with plan, charges and features), by plan code."""
    latest = (
        PlanVersion.objects.filter(status=PlanVersion.Status.PUBLISHED)
        .order_by("plan_id", "-number")
        .distinct("plan_id")
        .values("pk")
    )
    versions = PlanVersion.objects.filter(pk__in=latest).order_by("plan__code")
    return list(plan_version_with_details(versions))


def metric_use_by_catalog(metric: BillableMetric) -> str | None:
    """ "charges" / "features" when plan versions price or limit the metric, else None.

    Registered with metering in PlansConfig.ready, so a metric that plans rely on keeps its code,
    aggregation and property."""
    if Charge.objects.filter(metric=metric).exists():
        return "charges"
    if Feature.objects.filter(metric=metric).exists():
        return "features"
    return None


def soft_caps_without_charge(*, version: PlanVersion) -> list[str]:
    """Slugs of the version's metered features with a soft cap whose metric the version does not
    charge: their overage would never be billed (the admin warns)."""
    charged = set(version.charges.values_list("metric_id", flat=True))
    return [
        pf.feature.slug
        for pf in version.features.select_related("feature").order_by("feature__slug")
        if pf.feature.kind == "metered" and pf.cap == "soft" and pf.feature.metric_id not in charged
    ]


def metric_uses_in_catalog(metric: BillableMetric) -> list[str]:
    """Where plan versions and features use the metric, one line each, for its admin page.

    Registered with metering in PlansConfig.ready."""
    charges = (
        Charge.objects.filter(metric=metric)
        .select_related("version__plan")
        .order_by("version__plan__code", "version__number")
    )
    lines = [
        f"Plan {charge.version.plan.code} v{charge.version.number} "
        f"({charge.version.get_status_display().lower()}): charge"
        for charge in charges
    ]
    features = Feature.objects.filter(metric=metric).order_by("slug")
    lines += [f"Feature {feature.slug}" for feature in features]
    return lines
