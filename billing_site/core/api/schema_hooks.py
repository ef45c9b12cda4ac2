"""Post-processing of the OpenAPI schema: what every operation shares, stated once.

- Every operation documents the statuses the shared machinery can answer, in the error shape:
  401 (no or bad key), 403 (missing scope), 429 (over the key's rate, with `Retry-After`); with a
  body also 400, 413 and 415; with path or query parameters also 400 (and 404 for path ids).
- Text the API cannot store is refused everywhere (`billing_site.core.api.parsers` and
  `middleware`): request strings and parameters carry the pattern "no NUL character" and path
  ids "no '/'", so a schema-valid request is one the server can accept.
- Datetimes in requests are bounded (`billing_site.core.api.fields`): years 1970 to 2099.
"""

from __future__ import annotations

from typing import Any

NO_NUL = "^[^\\u0000]*$"
PATH_ID = "^[^/\\u0000]+$"
# A datetime in the years 1970 to 2099, spelled out in full so that a fuzzer can draw from the
# pattern instead of filtering random dates (days stop at 28 to stay valid in every month).
YEARS_1970_TO_2099 = (
    "^(19[7-9][0-9]|20[0-9][0-9])-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
    "T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)

# Where an operation deliberately answers a schema-valid request with a 400 (or a malformed one
# with a 200), the schema says why; `.ci/schemathesis.toml` skips only that check there.
_NOT_EXPRESSIBLE = (
    "\n\nNot expressible in this schema, so a schema-valid request can still get a 400: "
)
DELIBERATE_EXCEPTIONS = {
    "events_batch_ingest": "a malformed event is reported as `rejected` at its index with a 200, "
    "so that the batch's valid events are still stored.",
    "events_ingest": _NOT_EXPRESSIBLE + "the event is judged against the catalog and the clock "
    "(an unknown metric code, the property a numeric metric reads, a timestamp more than 24 "
    "hours ahead).",
    "customer_usage_get": _NOT_EXPRESSIBLE + "`to` must be after `from` and at most a year later.",
    "customers_create": _NOT_EXPRESSIBLE + "metadata must not hold a NUL character in any key.",
    "customers_update": _NOT_EXPRESSIBLE + "metadata must not hold a NUL character in any key.",
    "subscriptions_create": _NOT_EXPRESSIBLE + "the customer, plan and version must exist and "
    "share a currency.",
    "subscriptions_change_plan": _NOT_EXPRESSIBLE + "the plan and version must exist.",
    "subscription_overrides_create": _NOT_EXPRESSIBLE + "the metric or feature must be on the "
    "subscription's plan and the value must suit the kind.",
    "pricing_quote": _NOT_EXPRESSIBLE + "the metric must be one the plan version charges.",
    "stripe_webhook": _NOT_EXPRESSIBLE + "the body must carry a valid `Stripe-Signature` of "
    "itself made with STRIPE_WEBHOOK_SECRET.",
    **dict.fromkeys(
        [
            "entitlements_check",
            "entitlements_consume",
            "entitlements_reserve",
            "entitlements_hold_commit",
        ],
        _NOT_EXPRESSIBLE + "`quantity` is a decimal written as a string and must be greater than "
        "zero (at most 4 decimal places), a bound OpenAPI 3.0 cannot state for a string.",
    ),
}

_ERROR_REF = {"$ref": "#/components/schemas/ApiErrorOutput"}
_COMMON = {
    "401": "No API key, or an unknown or revoked one.",
    "403": "The API key lacks the operation's scope.",
    "429": "The API key is over its rate; retry after `Retry-After` seconds.",
}
_WITH_BODY = {
    "400": "The body is invalid; `fields` names the field and the reason.",
    "413": "The body is larger than the upload limit.",
    "415": "The body is not `application/json`.",
}
_WITH_PARAMETERS = {"400": "A parameter is invalid; `fields` names it."}
_WITH_PATH = {"404": "No such object."}


def _error_response(description: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": _ERROR_REF}}, "description": description}


def _constrain_strings(schema: Any, components: dict[str, Any], seen: set[str]) -> None:
    """Add the no-NUL pattern (and the year bound) to every string of a request schema."""
    if isinstance(schema, list):
        for item in schema:
            _constrain_strings(item, components, seen)
        return
    if not isinstance(schema, dict):
        return
    if ref := schema.get("$ref"):
        name = ref.rsplit("/", 1)[-1]
        if name not in seen and name in components:
            seen.add(name)
            _constrain_strings(components[name], components, seen)
        return
    if schema.get("type") == "string" and "enum" not in schema and "pattern" not in schema:
        if schema.get("format") == "date-time":
            schema["pattern"] = YEARS_1970_TO_2099
        elif schema.get("format") not in ("date", "email", "uri", "uuid", "decimal"):
            schema["pattern"] = NO_NUL
    for key in ("properties",):
        for child in (schema.get(key) or {}).values():
            _constrain_strings(child, components, seen)
    for key in ("items", "additionalProperties", "not"):
        if isinstance(schema.get(key), dict):
            _constrain_strings(schema[key], components, seen)
    for key in ("oneOf", "anyOf", "allOf"):
        if key in schema:
            _constrain_strings(schema[key], components, seen)


def api_error_responses_hook(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    components = result.get("components", {}).get("schemas", {})
    seen: set[str] = set()
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            statuses = dict(_COMMON)
            parameters = operation.get("parameters", [])
            if operation.get("requestBody"):
                statuses.update(_WITH_BODY)
                for content in operation["requestBody"].get("content", {}).values():
                    _constrain_strings(content.get("schema"), components, seen)
            if parameters:
                statuses.update(_WITH_PARAMETERS)
            if any(p.get("in") == "path" for p in parameters):
                statuses.update(_WITH_PATH)
            for parameter in parameters:
                schema = parameter.get("schema", {})
                if parameter.get("in") == "path" and schema.get("type") == "string":
                    schema.setdefault("pattern", PATH_ID)
                else:
                    _constrain_strings(schema, components, seen)
            if reason := DELIBERATE_EXCEPTIONS.get(operation.get("operationId", "")):
                if not reason.startswith("\n"):
                    reason = "\n\nThe batch answers per event: " + reason
                operation["description"] = operation.get("description", "") + reason
            responses = operation["responses"]
            for status, description in statuses.items():
                responses.setdefault(status, _error_response(description))
            if "429" in responses:
                responses["429"].setdefault(
                    "headers",
                    {
                        "Retry-After": {
                            "schema": {"type": "integer"},
                            "description": "Seconds to wait before retrying.",
                        }
                    },
                )
    return result
