"""The balance's SQL, in one place: ``credit_balance_get`` runs it, and the entitlement check
embeds it (summed) in its one statement, so there is one balance formula, not two.

A grant counts at ``at`` while ``effective_at <= at < expires_at`` (no expiry: always) and holds
the sum of its ledger rows that occurred up to ``at``; grants with nothing left are left out.
Rows come in burn order: priority, soonest expiry (lifetime last), effective time, id.
"""

from datetime import datetime
from typing import Any

GRANT_BALANCES_OF = """
SELECT g.id, g.feature_id, f.slug, g.amount, sum(e.amount) AS remaining, g.priority,
       g.effective_at, g.expires_at, g.source, g.billing_visible, g.definition_id
FROM credits_creditgrant AS g
JOIN credits_creditledgerentry AS e ON e.grant_id = g.id AND e.occurred_at <= %(at)s::timestamptz
JOIN plans_feature AS f ON f.id = g.feature_id
WHERE g.customer_id = {customer}
  AND ({feature} IS NULL OR g.feature_id = {feature})
  AND g.effective_at <= %(at)s::timestamptz
  AND (g.expires_at IS NULL OR g.expires_at > %(at)s::timestamptz)
GROUP BY g.id, f.slug
HAVING sum(e.amount) > 0
ORDER BY g.priority, g.expires_at ASC NULLS LAST, g.effective_at, g.id
"""


# ``GRANT_BALANCES_OF`` names the customer and feature by SQL expressions: parameters here, the
# entitlement check's columns there.
GRANT_BALANCES = GRANT_BALANCES_OF.format(
    customer="%(customer_id)s::bigint", feature="%(feature_id)s::bigint"
)


def grant_balances_sql(
    *, customer_id: int, feature_id: int | None, at: datetime
) -> tuple[str, dict[str, Any]]:
    return GRANT_BALANCES, {"customer_id": customer_id, "feature_id": feature_id, "at": at}
