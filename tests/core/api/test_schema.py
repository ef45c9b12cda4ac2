import pytest

pytestmark = pytest.mark.django_db


def test_openapi_schema_is_served_and_declares_bearer_keys(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Billing API"
    scheme = schema["components"]["securitySchemes"]["ApiKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert schema["paths"]["/api/v1/whoami"]["get"]["security"] == [{"ApiKey": []}]
    assert "/api/v1/whoami" in schema["paths"]


def test_swagger_ui_loads_its_assets_from_this_server(client):
    response = client.get("/api/docs/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "cdn" not in page.lower()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
