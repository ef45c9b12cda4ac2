import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client):
    return client.get("/api/schema/", HTTP_ACCEPT="application/json").json()


def _operations(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/api/v1/"):
                yield f"{method.upper()} {path}", operation


def test_every_operation_documents_the_statuses_of_the_shared_machinery(schema):
    # when: the shared statuses each operation can answer
    missing = {}
    for name, operation in _operations(schema):
        expected = {"401", "403", "429"}
        if "requestBody" in operation:
            expected |= {"400", "413", "415"}
        if any(p["in"] == "path" for p in operation.get("parameters", [])):
            expected |= {"400", "404"}
        if gaps := expected - set(operation["responses"]):
            missing[name] = sorted(gaps)

    # then
    assert missing == {}


def test_request_strings_state_that_nul_is_refused_and_dates_are_bounded(schema):
    # given
    customer = schema["components"]["schemas"]["CustomerCreateInputRequest"]["properties"]
    subscription = schema["components"]["schemas"]["SubscriptionCreateInputRequest"]["properties"]

    # then
    assert customer["name"]["pattern"] == "^[^\\u0000]*$"
    assert subscription["started_at"]["pattern"].startswith("^(19[7-9][0-9]|20[0-9][0-9])-")
    assert subscription["trial_days"]["maximum"] == 3660


def test_a_deliberately_unmet_check_is_explained_in_the_operation(schema):
    batch = schema["paths"]["/api/v1/events/batch"]["post"]
    assert "reported as `rejected` at its index with a 200" in batch["description"]
