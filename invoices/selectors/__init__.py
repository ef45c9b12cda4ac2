"""Reads of invoices: ``from invoices.selectors import invoice_get``."""

from invoices.selectors.invoices import (
    RunningPeriod,
    invoice_get,
    invoices_list,
    running_period_get,
    running_periods_for_customer,
)
from invoices.selectors.usage import UsageLookup

__all__ = [
    "RunningPeriod",
    "UsageLookup",
    "invoice_get",
    "invoices_list",
    "running_period_get",
    "running_periods_for_customer",
]
