"""Writes of credits: grants, burns in burn order, expiry, refills, and what invoicing applies.

Every movement is a new ledger row with a unique ``key``, so each write is idempotent: a retry
finds its rows and returns them instead of moving credits twice. Burns lock the customer's grants
of the feature first (``credits.lock_objects``), so concurrent burns never spend a unit twice.
"""

from credits.services.burns import (
    Burn,
    CreditApplication,
    credits_application_reverse,
    credits_apply_to_usage,
    credits_consume,
)
from credits.services.grants import (
    ALLOWANCE_KEYS,
    AllowanceTerms,
    allowance_override_errors,
    allowance_terms_for,
    credit_definition_remove,
    credit_definition_set,
    credit_grant_create,
    credit_grants_expire,
    credit_grants_for_subscription_ensure,
)

__all__ = [
    "ALLOWANCE_KEYS",
    "AllowanceTerms",
    "Burn",
    "CreditApplication",
    "allowance_override_errors",
    "allowance_terms_for",
    "credit_definition_remove",
    "credit_definition_set",
    "credit_grant_create",
    "credit_grants_expire",
    "credit_grants_for_subscription_ensure",
    "credits_application_reverse",
    "credits_apply_to_usage",
    "credits_consume",
]
