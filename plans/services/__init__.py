"""Writes of the catalog. Import from here: ``from plans.services import customer_create``."""

from plans.services.catalog import (
    charge_create,
    charge_delete,
    charge_update,
    plan_create,
    plan_update,
    plan_version_archive,
    plan_version_create_draft,
    plan_version_create_draft_from,
    plan_version_draft_delete,
    plan_version_publish,
    plan_version_publish_errors,
    plan_version_update,
)
from plans.services.customers import (
    customer_archive,
    customer_create,
    customer_members_set,
    customer_unarchive,
    customer_update,
)
from plans.services.features import (
    feature_create,
    feature_update,
    plan_feature_remove,
    plan_feature_set,
)
from plans.services.lago_import import LagoImportReport, lago_plan_import
from plans.services.overrides import (
    credit_allowance_validator_register,
    subscription_override_create,
    subscription_override_end,
)
from plans.services.subscriptions import (
    CHANGE_TIMINGS,
    subscription_cancel,
    subscription_cancellation_revoke,
    subscription_change_plan,
    subscription_create,
    subscription_period_advance,
    subscription_period_listener_register,
    subscription_scheduled_change_apply,
    subscription_scheduled_change_cancel,
)
from plans.services.version_migrations import subscriptions_schedule_migration

__all__ = [
    "CHANGE_TIMINGS",
    "LagoImportReport",
    "charge_create",
    "charge_delete",
    "charge_update",
    "credit_allowance_validator_register",
    "customer_archive",
    "customer_create",
    "customer_members_set",
    "customer_unarchive",
    "customer_update",
    "feature_create",
    "feature_update",
    "lago_plan_import",
    "plan_create",
    "plan_feature_remove",
    "plan_feature_set",
    "plan_update",
    "plan_version_archive",
    "plan_version_create_draft",
    "plan_version_create_draft_from",
    "plan_version_draft_delete",
    "plan_version_publish",
    "plan_version_publish_errors",
    "plan_version_update",
    "subscription_cancel",
    "subscription_cancellation_revoke",
    "subscription_change_plan",
    "subscription_create",
    "subscription_override_create",
    "subscription_override_end",
    "subscription_period_advance",
    "subscription_scheduled_change_apply",
    "subscription_period_listener_register",
    "subscription_scheduled_change_cancel",
    "subscriptions_schedule_migration",
]
