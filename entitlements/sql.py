"""The statements of an entitlement check, as raw SQL prepared once per connection: the check
is the hot path, and building these through the ORM cost more CPU than PostgreSQL spent
answering them. A check is one statement; the second only when the window SQL computed is not
the caller's (a billing period not yet advanced) or its counter must be built.

1. ``FEATURE_IN_FORCE_BY_*``: the customer (by id or external id: no row means no such customer) and
   its live subscription that has the feature (on the version in
   force, a scheduled change counting once due, or by an override), with the plan's value and the
   one feature override in force (overlapping overrides of one target are refused by the catalog;
   the latest start wins, as in ``plans.selectors.pricing_for_subscription``), and the state of
   its window as below.
2. ``WINDOW_STATE``: the window's usage counter, the open holds, and the credit balance, summed
   from ``credits.sql.GRANT_BALANCES`` (the balance's one formula).
"""

from credits.sql import GRANT_BALANCES, GRANT_BALANCES_OF

_FEATURE_IN_FORCE = """
SELECT cu.id AS customer_id, cu.external_id,
       s.id, s.external_id, s.started_at, s.current_period_start AS period_start,
       s.current_period_end AS period_end, s.billing_anchor, s.billing_time,
       v.id, v.interval, p.code,
       f.id AS feature_id, f.slug, f.kind, f.metric_id,
       pf.id IS NOT NULL, pf.enabled, pf.value, pf."limit", pf.reset_period, pf.cap,
       pf.alert_thresholds, o.id, o.value,
       coalesce(o.value->>'reset_period', pf.reset_period, 'billing') AS reset_period_in_force
FROM plans_customer AS cu
LEFT JOIN plans_subscription AS s
  ON s.customer_id = cu.id AND s.status IN ('trialing', 'active')
LEFT JOIN plans_planversion AS v
  ON v.id = CASE WHEN s.scheduled_version_id IS NOT NULL
                      AND s.scheduled_change_at <= %(at)s::timestamptz
                 THEN s.scheduled_version_id ELSE s.version_id END
LEFT JOIN plans_plan AS p ON p.id = v.plan_id
LEFT JOIN plans_feature AS f ON f.slug = %(slug)s::text
LEFT JOIN plans_planfeature AS pf ON pf.version_id = v.id AND pf.feature_id = f.id
LEFT JOIN LATERAL (
    SELECT o.id, o.value
    FROM plans_subscriptionoverride AS o
    WHERE o.subscription_id = s.id AND o.kind = 'feature' AND o.feature_id = f.id
      AND (o.valid_from IS NULL OR o.valid_from <= %(at)s::timestamptz)
      AND (o.valid_until IS NULL OR o.valid_until > %(at)s::timestamptz)
    ORDER BY o.valid_from DESC NULLS LAST, o.id DESC
    LIMIT 1
) AS o ON true
WHERE {customer}
ORDER BY (pf.id IS NULL AND o.id IS NULL), s.started_at, s.id
LIMIT 1
"""

# The feature in force and, in the same round trip, the state of its window as SQL computes it
# for the stored billing period (the caller checks that window against its own and reads again
# with WINDOW_STATE when they differ: a period the beat task has not advanced yet).
_WITH_STATE = """
SELECT fif.*, w.window_start, w.window_end, c.id, c.quantity, c.credited, c.stale,
       held.total, credit.total
FROM ({feature_in_force}) AS fif
LEFT JOIN LATERAL (
    SELECT CASE fif.reset_period_in_force
             WHEN 'never' THEN fif.started_at
             WHEN 'billing' THEN fif.period_start
             ELSE greatest(
               date_trunc(fif.reset_period_in_force, %(at)s::timestamptz AT TIME ZONE 'UTC')
                 AT TIME ZONE 'UTC',
               fif.period_start)
           END AS window_start,
           CASE fif.reset_period_in_force
             WHEN 'never' THEN timestamptz '9999-01-01 00:00:00+00'
             WHEN 'billing' THEN fif.period_end
             ELSE least(
               (date_trunc(fif.reset_period_in_force, %(at)s::timestamptz AT TIME ZONE 'UTC')
                 + ('1 ' || fif.reset_period_in_force)::interval) AT TIME ZONE 'UTC',
               fif.period_end)
           END AS window_end
) AS w ON fif.metric_id IS NOT NULL
LEFT JOIN entitlements_usagecounter AS c
  ON c.customer_id = fif.customer_id AND c.metric_id = fif.metric_id
 AND c.window_start = w.window_start AND c.window_end = w.window_end
LEFT JOIN LATERAL (
    SELECT coalesce(sum(h.quantity), 0) AS total
    FROM entitlements_hold AS h
    WHERE h.customer_id = fif.customer_id AND h.feature_id = fif.feature_id
      AND h.status = 'held' AND h.expires_at > %(at)s::timestamptz
) AS held ON fif.metric_id IS NOT NULL
LEFT JOIN LATERAL (
    SELECT coalesce(sum(b.remaining), 0) AS total FROM ({balances}) AS b
) AS credit ON fif.metric_id IS NOT NULL
"""
_BALANCES = GRANT_BALANCES_OF.format(customer="fif.customer_id", feature="fif.feature_id")


def _with_state(customer: str) -> str:
    return _WITH_STATE.format(
        feature_in_force=_FEATURE_IN_FORCE.format(customer=customer), balances=_BALANCES
    )


# Two statements rather than one with "id IS NULL OR ...": each is prepared once per connection
# and keeps its index plan (planning the join cost more than running it).
FEATURE_IN_FORCE_BY_ID = _with_state("cu.id = %(customer_id)s::bigint")
FEATURE_IN_FORCE_BY_EXTERNAL_ID = _with_state("cu.external_id = %(external_id)s::text")

WINDOW_STATE = f"""
SELECT c.id, c.quantity, c.credited, c.stale,
       (SELECT coalesce(sum(h.quantity), 0)
        FROM entitlements_hold AS h
        WHERE h.customer_id = %(customer_id)s::bigint AND h.feature_id = %(feature_id)s::bigint
          AND h.status = 'held' AND h.expires_at > %(at)s::timestamptz),
       (SELECT coalesce(sum(b.remaining), 0) FROM ({GRANT_BALANCES}) AS b)
FROM (SELECT 1) AS one
LEFT JOIN entitlements_usagecounter AS c
  ON c.customer_id = %(customer_id)s::bigint AND c.metric_id = %(metric_id)s::bigint
 AND c.window_start = %(window_start)s::timestamptz AND c.window_end = %(window_end)s::timestamptz
"""


# The consume's statements (``entitlements.services.consume``): three round trips of its own
# around metering's one event insert.
#
# 1. ``CONSUME_IN_FORCE_BY_*``: the feature in force as above, its metric, and the entitlement
#    lock (``entitlements.lock_objects``: the same key) taken on that one row. The window is not
#    read here: this statement's snapshot predates the lock, so it could miss what the previous
#    holder of the lock committed.
_CONSUME_IN_FORCE = """
SELECT fif.*, m.code, m.aggregation, m.field_name, m.filters, m.weights, m.rounding,
       (SELECT true FROM pg_advisory_xact_lock(hashtextextended(
            'entitlement:' || fif.customer_id || ':' || fif.feature_id, 0)))
FROM ({feature_in_force}) AS fif
LEFT JOIN metering_billablemetric AS m ON m.id = fif.metric_id
"""
CONSUME_IN_FORCE_BY_ID = _CONSUME_IN_FORCE.format(
    feature_in_force=_FEATURE_IN_FORCE.format(customer="cu.id = %(customer_id)s::bigint")
)
CONSUME_IN_FORCE_BY_EXTERNAL_ID = _CONSUME_IN_FORCE.format(
    feature_in_force=_FEATURE_IN_FORCE.format(customer="cu.external_id = %(external_id)s::text")
)

# 2. Under the lock, in a fresh snapshot: the answer already given to this transaction id (a
#    retry) and the window's state, as ``WINDOW_STATE`` reads it.
CONSUME_STATE = f"""
SELECT state.*, r.status_code, r.response
FROM ({WINDOW_STATE}) AS state
LEFT JOIN entitlements_consumerecord AS r
  ON r.customer_id = %(customer_id)s::bigint AND r.feature_id = %(feature_id)s::bigint
 AND r.transaction_id = %(transaction_id)s::text
"""

# 3. After the events are stored: count them on the window's counter (relative to what is
#    committed, its stale mark left as it is: an ingest that marked it meanwhile stays seen),
#    mark the customer's other counters of the metric stale (what ingest's listener does for
#    other roads), and store the answer for retries. One statement; returns the counters updated.
CONSUME_WRITE = """
WITH counted AS (
    UPDATE entitlements_usagecounter
    SET quantity = quantity + %(quantity)s::numeric, credited = credited + %(credited)s::numeric
    WHERE id = %(counter_id)s::bigint
    RETURNING id
), others AS (
    UPDATE entitlements_usagecounter
    SET stale = true
    WHERE customer_id = %(customer_id)s::bigint AND metric_id = %(metric_id)s::bigint
      AND id <> %(counter_id)s::bigint AND NOT stale
    RETURNING id
), recorded AS (
    INSERT INTO entitlements_consumerecord
        (customer_id, feature_id, transaction_id, quantity, allowed, status_code, response,
         created_at)
    VALUES (%(customer_id)s::bigint, %(feature_id)s::bigint, %(transaction_id)s::text,
            %(quantity)s::numeric, true, 200, %(response)s::jsonb, %(at)s::timestamptz)
    RETURNING id
)
SELECT (SELECT count(*) FROM counted), (SELECT count(*) FROM others), (SELECT id FROM recorded)
"""
