"""Builders for pay-in-advance tests: a published plan whose one charge is paid in advance,
events through metering's ingest."""

from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

from metering.models import BillableMetric
from metering.services import usage_events_ingest
from plans.models import PlanVersion
from plans.services import charge_create, plan_version_publish
from tests.plans.factories import make_metric, make_plan, make_version

_ids = count(1)


def advance_plan(
    metric: BillableMetric,
    charge_model: str,
    properties: dict[str, Any],
    *,
    code: str = "advance",
    base_fee: str = "0",
    **kwargs: Any,
) -> PlanVersion:
    version = make_version(make_plan(code), base_fee=Decimal(base_fee), **kwargs)
    charge_create(
        version=version,
        metric=metric,
        charge_model=charge_model,
        properties=properties,
        pay_in_advance=True,
        invoice_display_name=f"{metric.name} (in advance)",
    )
    return plan_version_publish(version=version)


def tokens() -> BillableMetric:
    return make_metric("tokens", aggregation="sum", field_name="tokens")


def send(
    customer_id: str,
    code: str,
    *properties: dict[str, Any],
    at: datetime,
    transaction_id: str | None = None,
) -> list[str]:
    """One event per properties object, stamped ``at``; returns their transaction ids."""
    ids = [transaction_id or f"adv-{next(_ids)}" for _ in properties]
    events = [
        {
            "transaction_id": tid,
            "customer_id": customer_id,
            "code": code,
            "timestamp": at.isoformat(),
            "properties": props,
        }
        for tid, props in zip(ids, properties, strict=True)
    ]
    usage_events_ingest(events=events, received_at=at + timedelta(seconds=1))
    return ids
