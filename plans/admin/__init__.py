"""The catalog in the admin: customers, plans and versions, charges, features, subscriptions.

Importing the modules registers their ModelAdmins. Every write goes through ``plans.services``.
"""

from plans.admin import catalog, charges, customers, features, metric_usage, subscriptions

__all__ = ["catalog", "charges", "customers", "features", "metric_usage", "subscriptions"]
