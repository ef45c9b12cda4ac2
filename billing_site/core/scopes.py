"""API key scopes: what a key may do. A view names the scopes it requires."""

SCOPES: dict[str, str] = {
    "events:write": "Ingest usage events",
    "events:read": "Look up ingested events",
    "usage:read": "Read aggregated usage",
    "customers:read": "Read customers",
    "customers:write": "Create and update customers",
    "subscriptions:read": "Read subscriptions",
    "subscriptions:write": "Create, change and cancel subscriptions",
    "pricing:read": "Read published plans and quote prices",
    "entitlements:read": "Check entitlements",
    "entitlements:write": "Consume entitlements",
    "credits:read": "Read credit balances",
    "invoices:read": "Read invoices",
    "invoices:write": "Create one-off invoices",
}

SCOPE_CHOICES = [(scope, f"{scope} — {label}") for scope, label in SCOPES.items()]
